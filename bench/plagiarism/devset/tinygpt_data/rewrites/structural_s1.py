"""Project 1, part 1: the data side of a tiny GPT (cleaning, tokenizer, batches, sampling).

Only the standard library and numpy. All randomness goes through the numpy Generator passed in as `rng`.
"""
import unicodedata

import numpy as np


def read_text(path):
    """Read a UTF-8 text file."""
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _normalise(raw):
    text = unicodedata.normalize("NFKC", raw)
    return "".join([ch for ch in text if unicodedata.category(ch) != "Cf"])


def _dedupe(lines):
    seen = set()
    kept = []
    for line in lines:
        key = line.casefold()
        if key not in seen:
            seen.add(key)
            kept.append(line)
    return kept


def clean_corpus(raw):
    """Return the cleaned corpus, one document per line, each once: NFKC, drop Cf characters, splitlines,
    collapse whitespace, drop empty lines, drop case-insensitive repeats (casefold, the first is kept),
    join the kept lines each followed by a newline."""
    lines = [" ".join(line.split()) for line in _normalise(raw).splitlines()]
    kept = _dedupe([line for line in lines if line])
    out = ""
    for line in kept:
        out += line + "\n"
    return out


def _softmax(logits):
    logits = logits - np.max(logits)
    probs = np.exp(logits)
    return probs / probs.sum()


def sample_next(logits, rng, temperature=1.0, top_k=None):
    """Next id from a 1-D array of logits: temperature 0 is greedy (argmax); otherwise sample from
    softmax(logits / temperature), with top_k only among the top_k most likely ids."""
    logits = np.asarray(logits, dtype=np.float64)
    if temperature != 0:
        logits = logits / temperature
        if top_k is not None and top_k < len(logits):
            kth = np.sort(logits)[-top_k]
            logits = np.where(logits >= kth, logits, -np.inf)
        probs = _softmax(logits)
        return int(rng.choice(len(probs), p=probs))
    return int(np.argmax(logits))


def get_batch(ids, block_size, batch_size, rng):
    """Draw batch_size random windows from the id stream: x[b] = ids[s:s + block_size], y[b] = ids[s + 1:s + block_size + 1].
    Returns two int64 arrays of shape (batch_size, block_size). Raises ValueError when there are fewer than
    block_size + 1 ids."""
    data = np.asarray(ids, dtype=np.int64)
    if not len(data) > block_size:
        raise ValueError(f"need at least {block_size + 1} ids for a window, got {len(data)}")
    starts = rng.integers(0, len(data) - block_size, size=batch_size)
    x, y = [], []
    for s in starts:
        x.append(data[s:s + block_size])
        y.append(data[s + 1:s + 1 + block_size])
    return np.stack(x), np.stack(y)


def split_ids(ids, val_fraction=0.1):
    """Split the id stream into (train, val) lists: the last int(len(ids) * val_fraction) ids are validation."""
    cut = len(ids) - int(len(ids) * val_fraction)
    return list(ids[:cut]), list(ids[cut:])


class CharTokenizer:
    """Distinct characters of the training text, sorted by code point, get the ids 1, 2, ...; id 0 means unknown."""

    def __init__(self, text):
        self.stoi = {}
        self.itos = {}
        for i, ch in enumerate(sorted(set(text)), start=1):
            self.stoi[ch] = i
            self.itos[i] = ch

    def decode(self, ids):
        """One character per id; 0 decodes to U+FFFD."""
        return "".join([self.itos.get(int(i), "\ufffd") for i in ids])

    def encode(self, text):
        """One id per character; a character not in the vocabulary encodes to 0."""
        ids = []
        for ch in text:
            ids.append(self.stoi[ch] if ch in self.stoi else 0)
        return ids

    @property
    def vocab_size(self):
        """Number of distinct characters + 1."""
        return 1 + len(self.stoi)


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
