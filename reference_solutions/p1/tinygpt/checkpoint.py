"""Checkpoints hold plain data only (weights, config, vocabulary), so loading never unpickles code."""

from dataclasses import asdict
from pathlib import Path

import torch

from .model import GPT, GPTConfig
from .tokenizer import CharTokenizer


def save_checkpoint(path: str | Path, model: GPT, tokenizer: CharTokenizer) -> None:
    state = {key: tensor.detach().cpu() for key, tensor in model.state_dict().items()}
    torch.save({"model": state, "config": asdict(model.config), "vocabulary": tokenizer.chars}, path)


def load_checkpoint(path: str | Path, device: str = "cpu") -> tuple[GPT, CharTokenizer]:
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model = GPT(GPTConfig(**checkpoint["config"]))
    model.load_state_dict(checkpoint["model"])
    model.to(device).eval()
    return model, CharTokenizer(checkpoint["vocabulary"])
