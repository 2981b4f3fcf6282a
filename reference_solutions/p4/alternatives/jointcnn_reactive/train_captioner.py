"""Train the whole-caption CNN on shapes seed 0, validate on seed 1, write captioner.safetensors.

    python train_captioner.py                 # CPU: a few minutes
    python train_captioner.py --device auto --train-size 60000 --epochs 12
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from torch import nn

from captioner import CAPTION_INDEX, WEIGHTS_FILE, CaptionNet, Captioner, resolve_device, save_network, to_tensor
from shapes import make_dataset


def labels_of(scenes) -> torch.Tensor:
    return torch.tensor([CAPTION_INDEX[scene.caption()] for scene in scenes], dtype=torch.long)


def train(train_size: int, epochs: int, batch_size: int, device: torch.device, seed: int) -> CaptionNet:
    torch.manual_seed(seed)
    images, scenes = make_dataset(train_size, seed=0)
    inputs, targets = to_tensor(images), labels_of(scenes)
    network = CaptionNet().to(device)
    optimizer = torch.optim.AdamW(network.parameters(), lr=2e-3, weight_decay=1e-4)
    steps = epochs * ((train_size + batch_size - 1) // batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=5e-3, total_steps=steps)
    for epoch in range(epochs):
        network.train()
        order = torch.randperm(train_size)
        total = 0.0
        for start in range(0, train_size, batch_size):
            batch = order[start:start + batch_size]
            loss = nn.functional.cross_entropy(network(inputs[batch].to(device)), targets[batch].to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(batch)
        print(f"epoch {epoch + 1}: loss {total / train_size:.4f}", flush=True)
    return network.eval()


def accuracy(captioner: Captioner, size: int, seed: int) -> float:
    images, scenes = make_dataset(size, seed=seed)
    return float(np.mean([captioner.caption(image) == scene.caption() for image, scene in zip(images, scenes)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-size", type=int, default=16000)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    device = resolve_device(args.device)
    started = time.monotonic()
    network = train(args.train_size, args.epochs, args.batch_size, device, args.seed)
    save_network(network)
    print(f"trained in {time.monotonic() - started:.0f} s, wrote {WEIGHTS_FILE}")
    print(f"exact-caption accuracy on 1000 images of seed 1: {accuracy(Captioner(network, device), 1000, 1):.3f}")


if __name__ == "__main__":
    main()
