"""The image-to-text model without a neural network: measured features and nearest class centroids per slot.

Features come from a foreground mask (pixels far from the background colour, estimated as the image's median):
* colour: the mean RGB of the foreground;
* side: the share of foreground pixels in the left half;
* count: how many of the 8 cells of a half (a 2 x 4 grid of 8-pixel cells; `shapes.py` puts each shape inside one
  cell) hold foreground;
* shape: per occupied cell, the bounding box's width, height and fill ratio (a square fills its box, a circle about
  four fifths, a triangle about half), averaged.
Training (`train_captioner.py`) stores, for each slot, the mean and spread of its features for every value;
`caption` picks the value whose centroid is nearest in standardised units.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

from shapes import CELL, COLOURS, COUNTS, IMAGE_SIZE, SHAPES, SIDES, Scene

WEIGHTS_FILE = Path(__file__).parent / "centroids.safetensors"
FOREGROUND_DISTANCE = 60.0  # per-channel distance from the background colour; noise is far below it
MIN_CELL_PIXELS = 4
SLOT_VALUES: dict[str, tuple] = {"colour": tuple(COLOURS), "side": SIDES, "count": COUNTS, "shape": SHAPES}


@dataclass(frozen=True)
class Features:
    colour: np.ndarray  # (3,)
    side: np.ndarray  # (1,)
    count: np.ndarray  # (1,)
    shape: np.ndarray  # (3,)

    def of(self, slot: str) -> np.ndarray:
        return getattr(self, slot)


def foreground(image: np.ndarray) -> np.ndarray:
    pixels = image.astype(np.float32)
    background = np.median(pixels.reshape(-1, 3), axis=0)
    return np.abs(pixels - background).max(axis=2) > FOREGROUND_DISTANCE


def cell_boxes(mask: np.ndarray) -> list[tuple[int, int, int]]:
    """(width, height, pixels) of the foreground in every occupied cell."""
    boxes = []
    for top in range(0, IMAGE_SIZE, CELL):
        for left in range(0, IMAGE_SIZE, CELL):
            rows, columns = np.nonzero(mask[top:top + CELL, left:left + CELL])
            if len(rows) >= MIN_CELL_PIXELS:
                boxes.append((int(columns.max() - columns.min() + 1), int(rows.max() - rows.min() + 1), len(rows)))
    return boxes


def features(image: np.ndarray) -> Features:
    pixels = np.asarray(image, dtype=np.uint8)
    if pixels.shape != (IMAGE_SIZE, IMAGE_SIZE, 3):
        raise ValueError(f"caption expects a ({IMAGE_SIZE}, {IMAGE_SIZE}, 3) uint8 image, got {pixels.shape}.")
    mask = foreground(pixels)
    total = max(int(mask.sum()), 1)
    colour = pixels[mask].astype(np.float32).mean(axis=0) if mask.any() else np.zeros(3, dtype=np.float32)
    left_share = mask[:, :IMAGE_SIZE // 2].sum() / total
    boxes = cell_boxes(mask)
    if boxes:
        widths, heights, counts = (np.array(values, dtype=np.float32) for values in zip(*boxes))
        shape = np.array([widths.mean(), heights.mean(), (counts / (widths * heights)).mean()], dtype=np.float32)
    else:
        shape = np.zeros(3, dtype=np.float32)
    return Features(colour=colour, side=np.array([left_share], dtype=np.float32),
                    count=np.array([len(boxes)], dtype=np.float32), shape=shape)


def slot_value(scene: Scene, slot: str):
    return getattr(scene, slot)


class Captioner:
    """Nearest standardised centroid, slot by slot; the caption is assembled with the course's grammar."""

    def __init__(self, parameters: dict[str, np.ndarray]) -> None:
        self.parameters = parameters

    def predict_slot(self, slot: str, values: np.ndarray) -> object:
        centroids = self.parameters[f"{slot}.centroids"]  # (classes, features)
        scale = self.parameters[f"{slot}.scale"]  # (features,)
        distances = (((values[None, :] - centroids) / scale) ** 2).sum(axis=1)
        return SLOT_VALUES[slot][int(np.argmin(distances))]

    def caption(self, image: np.ndarray) -> str:
        measured = features(image)
        slots = {slot: self.predict_slot(slot, measured.of(slot)) for slot in SLOT_VALUES}
        return Scene(count=int(slots["count"]), colour=str(slots["colour"]), shape=str(slots["shape"]),
                     side=str(slots["side"])).caption()


def fit(images: np.ndarray, scenes: list[Scene]) -> dict[str, np.ndarray]:
    """Per slot: the mean feature vector of every value, and one pooled within-class spread per feature."""
    measured = [features(image) for image in images]
    parameters = {}
    for slot, values in SLOT_VALUES.items():
        rows = np.stack([m.of(slot) for m in measured])
        labels = np.array([values.index(slot_value(scene, slot)) for scene in scenes])
        missing = [value for index, value in enumerate(values) if not (labels == index).any()]
        if missing:
            raise ValueError(f"the training set has no example of {slot} = {missing}; train on more images.")
        centroids = np.stack([rows[labels == index].mean(axis=0) for index in range(len(values))])
        spread = np.sqrt(((rows - centroids[labels]) ** 2).mean(axis=0))
        parameters[f"{slot}.centroids"] = centroids.astype(np.float32)
        parameters[f"{slot}.scale"] = np.maximum(spread, 1e-3).astype(np.float32)
    return parameters


def save_parameters(parameters: dict[str, np.ndarray], path: Path = WEIGHTS_FILE) -> None:
    save_file(parameters, str(path))


def load_parameters(path: Path = WEIGHTS_FILE) -> dict[str, np.ndarray]:
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `python train_captioner.py` beside solution.py first.")
    return load_file(str(path))
