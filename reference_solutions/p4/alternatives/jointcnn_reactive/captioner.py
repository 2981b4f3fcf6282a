"""The image-to-text model: a small CNN that classifies an image into one of the 72 whole captions.

Instead of one head per caption slot, the network picks the caption itself (4 colours x 3 shapes x 3 counts x
2 sides): its output is always a sentence of the grammar, by construction.
"""

from __future__ import annotations

from itertools import product
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from shapes import COLOURS, COUNTS, IMAGE_SIZE, SHAPES, SIDES, Scene

CAPTIONS = [Scene(count, colour, shape, side).caption()
            for count, colour, shape, side in product(COUNTS, COLOURS, SHAPES, SIDES)]
CAPTION_INDEX = {caption: index for index, caption in enumerate(CAPTIONS)}
WEIGHTS_FILE = Path(__file__).parent / "captioner.safetensors"


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class CaptionNet(nn.Module):
    """Two conv blocks keep an 8x8 map, so where the shapes are (side, how many cells) survives to the classifier."""

    def __init__(self, classes: int = len(CAPTIONS)) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),   # 16 x 16
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),  # 8 x 8
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(32 * 8 * 8, 128), nn.ReLU(), nn.Linear(128, classes))

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(pixels))


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (n, 32, 32, 3) -> float (n, 3, 32, 32) in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255.0


class Captioner:
    def __init__(self, network: CaptionNet, device: torch.device) -> None:
        self.network = network.to(device).eval()
        self.device = device
        if device.type == "cpu":
            # One image at a time is far too small to share between threads; on busy cores, intra-op threads
            # waiting for each other made every caption many times slower than a single thread.
            torch.set_num_threads(1)

    @torch.no_grad()
    def caption(self, image: np.ndarray) -> str:
        pixels = np.asarray(image, dtype=np.uint8)
        if pixels.shape != (IMAGE_SIZE, IMAGE_SIZE, 3):
            raise ValueError(f"caption expects a ({IMAGE_SIZE}, {IMAGE_SIZE}, 3) uint8 image, got {pixels.shape}.")
        logits = self.network(to_tensor(pixels[None]).to(self.device))
        return CAPTIONS[int(logits.argmax(dim=1).item())]


def save_network(network: CaptionNet, path: Path = WEIGHTS_FILE) -> None:
    save_file({name: tensor.detach().cpu().contiguous() for name, tensor in network.state_dict().items()}, str(path))


def load_network(path: Path = WEIGHTS_FILE) -> CaptionNet:
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `python train_captioner.py` beside solution.py first.")
    network = CaptionNet()
    network.load_state_dict(load_file(str(path)))
    return network
