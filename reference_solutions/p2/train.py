"""Fine-tuning: the encoder's upper layers and the head learn the labels, within a time budget."""

from __future__ import annotations

import random
import time
from typing import Iterator

import torch
from torch.nn import functional as F

from classifier import TextClassifier, load_pretrained
from config import FineTuneConfig


def freeze_lower_layers(classifier: TextClassifier, frozen_layers: int) -> None:
    """Embeddings and the lowest layers keep their pretrained weights; no gradient is computed for them."""
    if frozen_layers <= 0:
        return
    encoder = classifier.encoder
    for parameter in encoder.embeddings.parameters():
        parameter.requires_grad_(False)
    for layer in encoder.encoder.layer[:frozen_layers]:
        for parameter in layer.parameters():
            parameter.requires_grad_(False)


def shuffled_batches(texts: list[str], labels: list[int], batch_size: int,
                     rng: random.Random) -> Iterator[tuple[list[str], list[int]]]:
    order = list(range(len(texts)))
    rng.shuffle(order)
    for start in range(0, len(order), batch_size):
        chosen = order[start:start + batch_size]
        yield [texts[i] for i in chosen], [labels[i] for i in chosen]


def fine_tune(texts: list[str], labels: list[int], config: FineTuneConfig) -> TextClassifier:
    rng = random.Random(config.seed)
    classifier = load_pretrained(config)
    freeze_lower_layers(classifier, config.frozen_layers)
    optimizer = torch.optim.AdamW([
        {"params": [p for p in classifier.encoder.parameters() if p.requires_grad], "lr": config.learning_rate},
        {"params": classifier.head.parameters(), "lr": config.head_learning_rate},
    ])
    deadline = time.monotonic() + config.time_budget_s
    for _epoch in range(config.epochs):
        classifier.train()
        for batch_texts, batch_labels in shuffled_batches(texts, labels, config.batch_size, rng):
            if time.monotonic() > deadline:
                return classifier.eval()
            logits = classifier(classifier.encode(batch_texts))
            loss = F.cross_entropy(logits, torch.tensor(batch_labels, device=classifier.device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return classifier.eval()
