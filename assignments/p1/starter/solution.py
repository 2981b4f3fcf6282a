"""Project 1: a tiny GPT from scratch. Fill in every function; keep the names and signatures (see README.md).

You may split your code into more modules beside this file (import them from here); the grader imports solution.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn


def clean_corpus(raw: str) -> str:
    """Return the cleaned corpus: one document per line, each line once.

    In this order: Unicode NFKC normalisation of the whole text; remove every character of Unicode category "Cf"
    (zero-width space, soft hyphen, byte-order mark ...); split with str.splitlines(); collapse the whitespace of
    each line (" ".join(line.split())); drop empty lines; drop a line when an earlier kept line is equal to it
    ignoring case (compare with str.casefold(), keep the first one as it is); join the kept lines, each followed
    by "\\n" (so the result ends with "\\n", or is "" when no line is left).
    """
    raise NotImplementedError


class CharTokenizer:
    """Character-level tokenizer built from a training text.

    Id 0 means "unknown character". The distinct characters of the training text, sorted by code point, get the
    ids 1, 2, 3, ... so vocab_size is the number of distinct characters plus one.
    """

    def __init__(self, text: str) -> None:
        raise NotImplementedError

    @property
    def vocab_size(self) -> int:
        raise NotImplementedError

    def encode(self, text: str) -> list[int]:
        """One id per character; a character not seen in the training text encodes to 0."""
        raise NotImplementedError

    def decode(self, ids: list[int]) -> str:
        """One character per id; id 0 decodes to U+FFFD ("\\ufffd")."""
        raise NotImplementedError


@dataclass
class GPTConfig:
    vocab_size: int
    block_size: int = 64  # the longest sequence the model accepts
    n_layer: int = 2
    n_head: int = 4  # n_embd must be divisible by n_head
    n_embd: int = 64
    dropout: float = 0.0


def default_config(vocab_size: int) -> GPTConfig:
    """The architecture the grader trains on its hidden corpus: at most 250,000 parameters, fast on one CPU thread."""
    raise NotImplementedError


class GPT(nn.Module):
    """A decoder-only transformer: token and position embeddings, n_layer blocks of causal self-attention and an
    MLP (layer norm, residual connections), a final layer norm and a linear head to vocab_size logits."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        raise NotImplementedError

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """idx: (B, T) long tensor with T <= block_size. Returns (logits of shape (B, T, vocab_size), loss).

        loss is the mean cross-entropy of the logits against targets (B, T), or None when targets is None.
        The logits at position t must depend only on idx[:, :t + 1].
        """
        raise NotImplementedError


def train(model: GPT, data: list[int], *, max_steps: int, time_budget_s: float, seed: int, batch_size: int = 16,
          learning_rate: float = 3e-3, device: str = "cpu") -> list[float]:
    """Train `model` in place on the token stream `data` (next-token prediction on random windows).

    Stop after max_steps optimiser steps, or earlier when time_budget_s seconds have passed since the call.
    Seed every random choice of the run from `seed` (the same seed and initial weights give the same losses,
    whatever random numbers were drawn before the call). Return the training loss of each step, as floats.
    Leave the model in eval mode.
    """
    raise NotImplementedError


def generate(model: GPT, prompt: list[int], max_new_tokens: int, *, temperature: float = 1.0,
             top_k: int | None = None, seed: int | None = None) -> list[int]:
    """Return prompt + max_new_tokens generated ids (feed at most the last block_size ids to the model).

    temperature == 0: greedy (argmax). Otherwise sample from softmax(logits / temperature), restricted to the
    top_k most likely tokens when top_k is given. With a seed, draw from a torch.Generator seeded with it (the
    output then depends only on the model, the arguments and the seed).
    """
    raise NotImplementedError


def save_checkpoint(path: str | Path, model: GPT, tokenizer: CharTokenizer) -> None:
    """Write everything needed to rebuild the model (config and weights) and the tokenizer to `path`."""
    raise NotImplementedError


def load_checkpoint(path: str | Path, device: str = "cpu") -> tuple[GPT, CharTokenizer]:
    """Rebuild the model and the tokenizer saved at `path` (the model in eval mode)."""
    raise NotImplementedError
