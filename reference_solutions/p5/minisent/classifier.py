"""Nearest-centroid classification: a label's centroid is the mean embedding of its labelled examples."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

SEED_EXAMPLES = Path(__file__).resolve().parent / "seed_reviews.tsv"


@dataclass(frozen=True)
class Prediction:
    text: str
    label: str
    confidence: float  # softmax over the cosine similarities to each centroid, sharpened by TEMPERATURE


TEMPERATURE = 0.05


def read_examples(path: Path = SEED_EXAMPLES) -> list[tuple[str, str]]:
    """Lines of '<label>\\t<text>'."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            label, text = line.split("\t", 1)
            rows.append((label, text))
    return rows


class CentroidClassifier:
    def __init__(self, embedder, examples: list[tuple[str, str]]) -> None:
        self.embedder = embedder
        self.labels = sorted({label for label, _ in examples})
        vectors = embedder.embed([text for _, text in examples])
        centroids = np.stack([vectors[[i for i, (label, _) in enumerate(examples) if label == wanted]].mean(axis=0)
                              for wanted in self.labels])
        self.centroids = centroids / np.linalg.norm(centroids, axis=1, keepdims=True)

    def predict(self, texts: list[str]) -> list[Prediction]:
        similarities = self.embedder.embed(texts) @ self.centroids.T
        scaled = np.exp((similarities - similarities.max(axis=1, keepdims=True)) / TEMPERATURE)
        probabilities = scaled / scaled.sum(axis=1, keepdims=True)
        return [Prediction(text, self.labels[int(row.argmax())], float(row.max()))
                for text, row in zip(texts, probabilities)]
