"""The synthetic image set: a few shapes of one colour and one kind, all in one half of a small picture.

Deterministic: the same seed gives the same images. The course trains on seed 0; the grader's hidden images use
another seed, so a captioner has to generalise, not memorise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

IMAGE_SIZE = 32
COLOURS = {"red": (220, 40, 40), "green": (40, 180, 60), "blue": (50, 90, 230), "yellow": (230, 210, 40)}
SHAPES = ("circle", "square", "triangle")
COUNTS = (1, 2, 3)
SIDES = ("left", "right")
CELL = 8  # each half is a 2 x 4 grid of cells; a shape fills most of one cell, so shapes never overlap
SHAPE_SIZE = 6


@dataclass(frozen=True)
class Scene:
    count: int
    colour: str
    shape: str
    side: str

    def caption(self) -> str:
        """The one caption grammar the course uses: '<count> <colour> <shape>[s] on the <side>'."""
        plural = "s" if self.count > 1 else ""
        return f"{self.count} {self.colour} {self.shape}{plural} on the {self.side}"


def random_scene(rng: np.random.Generator) -> Scene:
    return Scene(count=int(rng.choice(COUNTS)), colour=str(rng.choice(list(COLOURS))),
                 shape=str(rng.choice(SHAPES)), side=str(rng.choice(SIDES)))


def render(scene: Scene, rng: np.random.Generator) -> np.ndarray:
    """An IMAGE_SIZE x IMAGE_SIZE x 3 uint8 picture of the scene, with colour jitter and pixel noise."""
    background = tuple(int(v) for v in rng.integers(0, 60, size=3))
    picture = Image.new("RGB", (IMAGE_SIZE, IMAGE_SIZE), background)
    draw = ImageDraw.Draw(picture)
    first_column = 0 if scene.side == "left" else 2
    cells = [(first_column + column, row) for column in range(2) for row in range(4)]
    chosen = rng.choice(len(cells), size=scene.count, replace=False)
    base = np.array(COLOURS[scene.colour])
    for index in chosen:
        column, row = cells[int(index)]
        left = column * CELL + int(rng.integers(0, CELL - SHAPE_SIZE + 1))
        top = row * CELL + int(rng.integers(0, CELL - SHAPE_SIZE + 1))
        colour = tuple(int(v) for v in np.clip(base + rng.integers(-25, 26, size=3), 0, 255))
        _draw_shape(draw, scene.shape, left, top, colour)
    pixels = np.asarray(picture, dtype=np.int16) + rng.normal(0, 6, size=(IMAGE_SIZE, IMAGE_SIZE, 3)).astype(np.int16)
    return np.clip(pixels, 0, 255).astype(np.uint8)


def _draw_shape(draw: ImageDraw.ImageDraw, shape: str, left: int, top: int, colour: tuple[int, int, int]) -> None:
    right, bottom = left + SHAPE_SIZE - 1, top + SHAPE_SIZE - 1
    if shape == "circle":
        draw.ellipse((left, top, right, bottom), fill=colour)
    elif shape == "square":
        draw.rectangle((left + 1, top + 1, right - 1, bottom - 1), fill=colour)
    else:
        draw.polygon([(left + SHAPE_SIZE / 2 - 0.5, top), (left, bottom), (right, bottom)], fill=colour)


def make_dataset(size: int, seed: int) -> tuple[np.ndarray, list[Scene]]:
    """`size` images (size x 32 x 32 x 3, uint8) and their scenes, fully determined by `seed`."""
    rng = np.random.default_rng(seed)
    scenes = [random_scene(rng) for _ in range(size)]
    images = np.stack([render(scene, rng) for scene in scenes])
    return images, scenes
