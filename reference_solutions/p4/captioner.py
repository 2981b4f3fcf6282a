"""Image-to-text: a tiny CNN trained from scratch on the synthetic shapes, with one classification head per caption slot.

Its caption follows the course grammar ('2 red circles on the left'), so agents (and the grader) can read it.
To use a real captioner instead, give an object with the same `caption(image) -> str` method to `image_tool`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file
from torch import nn

from shapes import COLOURS, COUNTS, SHAPES, SIDES, Scene

WEIGHTS = Path(__file__).resolve().parent / "weights.safetensors"
HEADS = {"count": len(COUNTS), "colour": len(COLOURS), "shape": len(SHAPES), "side": len(SIDES)}


class ShapeNet(nn.Module):
    """Three conv blocks (32 -> 16 -> 8 -> 4 pixels), then one linear layer giving every head's logits at once."""

    def __init__(self) -> None:
        super().__init__()
        blocks = []
        for channels_in, channels_out in ((3, 16), (16, 32), (32, 48)):
            blocks += [nn.Conv2d(channels_in, channels_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        self.features = nn.Sequential(*blocks, nn.Flatten())
        self.heads = nn.Linear(48 * 4 * 4, sum(HEADS.values()))

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """images: (B, 32, 32, 3) uint8 -> logits per head, each (B, classes)."""
        x = images.permute(0, 3, 1, 2).float() / 255.0
        logits = self.heads(self.features(x))
        return dict(zip(HEADS, logits.split(list(HEADS.values()), dim=1)))


def pick_device(requested: str = "auto") -> torch.device:
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(requested)


def scene_from_logits(logits: dict[str, torch.Tensor], row: int) -> Scene:
    return Scene(count=COUNTS[int(logits["count"][row].argmax())],
                 colour=list(COLOURS)[int(logits["colour"][row].argmax())],
                 shape=SHAPES[int(logits["shape"][row].argmax())],
                 side=SIDES[int(logits["side"][row].argmax())])


class Captioner:
    def __init__(self, model: ShapeNet, device: torch.device) -> None:
        self.model = model.to(device).eval()
        self.device = device

    def caption_batch(self, images: np.ndarray) -> list[str]:
        with torch.no_grad():
            logits = self.model(torch.as_tensor(np.asarray(images, dtype=np.uint8), device=self.device))
        return [scene_from_logits(logits, row).caption() for row in range(len(images))]

    def caption(self, image: np.ndarray) -> str:
        return self.caption_batch(np.asarray(image)[None])[0]


def load_captioner(device: str = "auto") -> Captioner:
    model = ShapeNet()
    model.load_state_dict(load_file(WEIGHTS))
    return Captioner(model, pick_device(device))
