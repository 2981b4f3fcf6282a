"""Project 1, part 1: the data side of a tiny GPT (cleaning, tokenizer, batches, sampling).

Only the standard library and numpy. All randomness goes through the numpy Generator passed in as `rng`.
"""
import unicodedata

import numpy as np


def read_text(path):
    """Read a UTF-8 text file."""
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def unique_casefold(lines):
    keys = set()
    result = []
    for line in lines:
        if line.casefold() not in keys:
            keys.add(line.casefold())
            result.append(line)
    return result


def clean_corpus(raw):
    """Return the cleaned corpus, one document per line, each once: NFKC, drop Cf characters, splitlines,
    collapse whitespace, drop empty lines, drop case-insensitive repeats (casefold, the first is kept),
    join the kept lines each followed by a newline."""
    text = unicodedata.normalize("NFKC", raw)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    lines = []
    for line in text.splitlines():
        line = " ".join(line.split())
        if line != "":
            lines.append(line)
    lines = unique_casefold(lines)
    if not lines:
        return ""
    return "\n".join(lines) + "\n"


def sample_next(logits, rng, temperature=1.0, top_k=None):
    """Next id from a 1-D array of logits: temperature 0 is greedy (argmax); otherwise sample from
    softmax(logits / temperature), with top_k only among the top_k most likely ids."""
    values = np.array(logits, dtype=np.float64)
    if temperature > 0:
        order = np.argsort(-values, kind="stable")
        order = order[:top_k] if top_k else order
        kept = np.exp(values[order] / temperature - values[order[0]] / temperature)
        return int(order[rng.choice(len(order), p=kept / kept.sum())])
    return int(values.argmax())


def get_batch(ids, block_size, batch_size, rng):
    """Draw batch_size random windows from the id stream: x[b] = ids[s:s + block_size], y[b] = ids[s + 1:s + block_size + 1].
    Returns two int64 arrays of shape (batch_size, block_size). Raises ValueError when there are fewer than
    block_size + 1 ids."""
    n = len(ids)
    if n <= block_size:
        raise ValueError("not enough ids: the stream must be longer than block_size")
    data = np.array(ids, dtype=np.int64)
    starts = rng.choice(n - block_size, size=batch_size, replace=True)
    positions = np.add.outer(starts, np.arange(block_size))
    return data[positions], data[positions + 1]


def split_ids(ids, val_fraction=0.1):
    """Split the id stream into (train, val) lists: the last int(len(ids) * val_fraction) ids are validation."""
    boundary = len(ids) - int(val_fraction * len(ids))
    return [ids[i] for i in range(len(ids)) if i < boundary], [ids[i] for i in range(len(ids)) if i >= boundary]


class CharTokenizer:
    """Distinct characters of the training text, sorted by code point, get the ids 1, 2, ...; id 0 means unknown."""

    REPLACEMENT = "\ufffd"

    def __init__(self, text):
        self.vocab = [None]
        for cp in sorted({ord(c) for c in text}):
            self.vocab.append(chr(cp))
        self.index = {c: i for i, c in enumerate(self.vocab) if i > 0}

    @property
    def vocab_size(self):
        """Number of distinct characters + 1."""
        return len(self.vocab)

    def encode(self, text):
        """One id per character; a character not in the vocabulary encodes to 0."""
        return [self.index.get(c, 0) for c in text]

    def decode(self, ids):
        """One character per id; 0 decodes to U+FFFD."""
        return "".join(self.vocab[int(token)] if 0 < int(token) < len(self.vocab) else self.REPLACEMENT for token in ids)


def main():
    text = clean_corpus(read_text("corpus.txt"))
    tokenizer = CharTokenizer(text)
    train, val = split_ids(tokenizer.encode(text))
    rng = np.random.default_rng(0)
    x, y = get_batch(train, 32, 4, rng)
    print("batch:", x.shape, y.shape, "val ids:", len(val))
    logits = rng.normal(size=tokenizer.vocab_size)
    print("sampled:", tokenizer.decode([sample_next(logits, rng, 0.8, top_k=5) for _ in range(20)]))


if __name__ == "__main__":
    main()
