"""`--device auto` picks CUDA when PyTorch sees a GPU, else the CPU."""

import torch


def resolve_device(name: str) -> str:
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return name
