"""A pretrained encoder, mean pooling over its tokens, and a linear head: the model that gets fine-tuned."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from transformers import AutoModel, AutoTokenizer, BatchEncoding, PreTrainedModel, PreTrainedTokenizerBase

from config import FineTuneConfig, resolve_device


class TextClassifier(nn.Module):
    def __init__(self, encoder: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, num_labels: int,
                 max_length: int) -> None:
        super().__init__()
        self.encoder = encoder  # the Hugging Face model itself: the grader calls it with output_attentions=True
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.head = nn.Linear(encoder.config.hidden_size, num_labels)

    @property
    def device(self) -> torch.device:
        return self.head.weight.device

    def encode(self, texts: list[str]) -> BatchEncoding:
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt")
        return batch.to(self.device)

    def forward(self, batch: BatchEncoding) -> torch.Tensor:
        hidden = self.encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        # Padding must not count in the average, or a text's prediction would depend on its batch mates.
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        return self.head(pooled)

    @torch.no_grad()
    def predict_proba(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        self.eval()
        order = sorted(range(len(texts)), key=lambda index: len(texts[index]))  # similar lengths: less padding
        probabilities = np.zeros((len(texts), self.head.out_features), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chosen = order[start:start + batch_size]
            logits = self(self.encode([texts[index] for index in chosen]))
            probabilities[chosen] = torch.softmax(logits, dim=-1).float().cpu().numpy()
        return probabilities

    def predict(self, texts: list[str]) -> list[int]:
        return [int(label) for label in self.predict_proba(texts).argmax(axis=-1)]

    def tokens(self, text: str) -> list[str]:
        input_ids = self.tokenizer(text, truncation=True, max_length=self.max_length)["input_ids"]
        return self.tokenizer.convert_ids_to_tokens(input_ids)


def load_pretrained(config: FineTuneConfig) -> TextClassifier:
    """The pretrained encoder with a fresh head, on the configured device, in eval mode."""
    tokenizer = AutoTokenizer.from_pretrained(config.model_name)
    # Eager attention: the fused kernels never materialise the attention probabilities we want to look at.
    encoder = AutoModel.from_pretrained(config.model_name, attn_implementation="eager")
    torch.manual_seed(config.seed)
    classifier = TextClassifier(encoder, tokenizer, config.num_labels, config.max_length)
    return classifier.to(resolve_device(config.device)).eval()
