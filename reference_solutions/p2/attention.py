"""The attention probabilities the encoder computed for one text."""

from __future__ import annotations

import numpy as np
import torch

from classifier import TextClassifier


@torch.no_grad()
def attention_maps(classifier: TextClassifier, text: str) -> np.ndarray:
    """[layers, heads, seq, seq]: entry [l, h, i, j] is how much token i attends to token j; each row sums to 1."""
    classifier.eval()
    batch = classifier.tokenizer(text, truncation=True, max_length=classifier.max_length, return_tensors="pt")
    outputs = classifier.encoder(**batch.to(classifier.device), output_attentions=True)
    per_layer = torch.stack(outputs.attentions)  # [layers, batch, heads, seq, seq]
    return per_layer[:, 0].float().cpu().numpy()
