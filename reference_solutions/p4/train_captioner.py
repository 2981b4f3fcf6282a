"""Train the captioner from scratch on synthetic shapes and write weights.safetensors beside this file.

    python train_captioner.py                       # the shipped weights: a few minutes on a CPU
    python train_captioner.py --steps 20000 --train-size 100000 --device cuda   # a longer run on a GPU
"""

from __future__ import annotations

import argparse

import torch
from safetensors.torch import save_file
from torch.nn import functional as F

from captioner import HEADS, WEIGHTS, Captioner, ShapeNet, pick_device
from shapes import COLOURS, COUNTS, SHAPES, SIDES, Scene, make_dataset

TRAIN_SEED = 0
VALIDATION_SEED = 1


def scene_targets(scenes: list[Scene]) -> dict[str, torch.Tensor]:
    return {"count": torch.tensor([COUNTS.index(s.count) for s in scenes]),
            "colour": torch.tensor([list(COLOURS).index(s.colour) for s in scenes]),
            "shape": torch.tensor([SHAPES.index(s.shape) for s in scenes]),
            "side": torch.tensor([SIDES.index(s.side) for s in scenes])}


def train(steps: int, train_size: int, batch_size: int, learning_rate: float, device: torch.device) -> ShapeNet:
    torch.manual_seed(TRAIN_SEED)
    images, scenes = make_dataset(train_size, TRAIN_SEED)
    images = torch.as_tensor(images, device=device)
    targets = {head: labels.to(device) for head, labels in scene_targets(scenes).items()}
    model = ShapeNet().to(device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=learning_rate)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=learning_rate, total_steps=steps)
    for step in range(steps):
        batch = torch.randint(0, train_size, (batch_size,), device=device)
        logits = model(images[batch])
        loss = sum(F.cross_entropy(logits[head], targets[head][batch]) for head in HEADS)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        schedule.step()
        if step % 200 == 0 or step == steps - 1:
            print(f"step {step:5d}  loss {loss.item():.4f}")
    return model


def caption_accuracy(captioner: Captioner, size: int) -> float:
    images, scenes = make_dataset(size, VALIDATION_SEED)
    captions = captioner.caption_batch(images)
    return sum(caption == scene.caption() for caption, scene in zip(captions, scenes)) / size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=1200)
    parser.add_argument("--train-size", type=int, default=8000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--device", default="auto", help="auto (CUDA when present, else CPU), cpu or cuda")
    args = parser.parse_args()
    device = pick_device(args.device)
    model = train(args.steps, args.train_size, args.batch_size, args.learning_rate, device)
    accuracy = caption_accuracy(Captioner(model, device), size=1000)
    print(f"exact-caption accuracy on 1000 validation images: {accuracy:.3f}")
    save_file({name: tensor.detach().cpu().contiguous() for name, tensor in model.state_dict().items()}, WEIGHTS)
    print(f"wrote {WEIGHTS}")


if __name__ == "__main__":
    main()
