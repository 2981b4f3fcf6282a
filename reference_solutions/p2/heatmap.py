"""An attention matrix drawn as a heatmap PNG, with the tokens on both axes."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure


@dataclass(frozen=True)
class Heatmap:
    png: bytes
    x_labels: list[str]  # read back from the drawn axes, so they are what the picture shows
    y_labels: list[str]


def render_attention(tokens: list[str], attention: np.ndarray, title: str = "") -> Heatmap:
    """attention: [seq, seq] with seq == len(tokens); rows are the attending (query) tokens."""
    size = len(tokens)
    if attention.shape != (size, size):
        raise ValueError(f"attention has shape {attention.shape}, expected ({size}, {size}) for {size} tokens")
    side = 2.0 + 0.28 * size
    figure = Figure(figsize=(side, side), dpi=100)  # no pyplot: no global figure state, no display needed
    axes = figure.subplots()
    image = axes.imshow(attention, cmap="viridis", vmin=0.0, vmax=float(max(attention.max(), 1e-9)))
    axes.set_xticks(range(size), labels=tokens, rotation=90)
    axes.set_yticks(range(size), labels=tokens)
    axes.set_xlabel("attended-to token (key)")
    axes.set_ylabel("attending token (query)")
    if title:
        axes.set_title(title)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return Heatmap(png=buffer.getvalue(),
                   x_labels=[label.get_text() for label in axes.get_xticklabels()],
                   y_labels=[label.get_text() for label in axes.get_yticklabels()])
