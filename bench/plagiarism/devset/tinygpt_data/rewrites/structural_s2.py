"""Project 1, part 1: the data side of a tiny GPT (cleaning, tokenizer, batches, sampling).

Only the standard library and numpy. All randomness goes through the numpy Generator passed in as `rng`.
"""
import unicodedata

import numpy as np


def read_text(path):
    """Read a UTF-8 text file."""
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def softmax(x):
    e = np.exp(x - np.max(x))
    return e / np.sum(e)


def sample_next(logits, rng, temperature=1.0, top_k=None):
    """Next id from a 1-D array of logits: temperature 0 is greedy (argmax); otherwise sample from
    softmax(logits / temperature), with top_k only among the top_k most likely ids."""
    logits = np.array(logits, dtype=np.float64)
    if temperature == 0:
        return int(logits.argmax())
    if top_k is not None:
        logits = _keep_top(logits, min(top_k, logits.size))
    return int(rng.choice(logits.size, p=softmax(logits / temperature)))


def _keep_top(logits, k):
    threshold = sorted(logits, reverse=True)[k - 1]
    return np.where(logits < threshold, -np.inf, logits)


def get_batch(ids, block_size, batch_size, rng):
    """Draw batch_size random windows from the id stream: x[b] = ids[s:s + block_size], y[b] = ids[s + 1:s + block_size + 1].
    Returns two int64 arrays of shape (batch_size, block_size). Raises ValueError when there are fewer than
    block_size + 1 ids."""
    arr = np.array(ids, dtype=np.int64)
    if arr.shape[0] > block_size:
        ix = rng.integers(0, arr.shape[0] - block_size, size=batch_size)
        xb = np.array([arr[start:start + block_size] for start in ix], dtype=np.int64).reshape(batch_size, block_size)
        yb = np.array([arr[start + 1:start + 1 + block_size] for start in ix], dtype=np.int64).reshape(batch_size, block_size)
        return xb, yb
    raise ValueError("the id stream is shorter than block_size + 1")


def split_ids(ids, val_fraction=0.1):
    """Split the id stream into (train, val) lists: the last int(len(ids) * val_fraction) ids are validation."""
    ids = list(ids)
    n = len(ids) - int(len(ids) * val_fraction)
    train = ids[:n]
    return train, ids[len(train):]


class CharTokenizer:
    """Distinct characters of the training text, sorted by code point, get the ids 1, 2, ...; id 0 means unknown."""

    def __init__(self, text):
        self.chars = sorted(set(text))
        self.char_to_id = {c: idx for idx, c in enumerate(self.chars, start=1)}
        self.id_to_char = {idx: c for c, idx in self.char_to_id.items()}
        self.id_to_char[0] = "\ufffd"

    @property
    def vocab_size(self):
        """Number of distinct characters + 1."""
        return len(self.chars) + 1

    def encode(self, text):
        """One id per character; a character not in the vocabulary encodes to 0."""
        return [self.char_to_id.get(c, 0) for c in text]

    def decode(self, ids):
        """One character per id; 0 decodes to U+FFFD."""
        out = ""
        for t in ids:
            out += self.id_to_char.get(int(t), "\ufffd")
        return out


def _lines(text):
    for l in text.splitlines():
        l = " ".join(l.split())
        if l:
            yield l


def clean_corpus(raw):
    """Return the cleaned corpus, one document per line, each once: NFKC, drop Cf characters, splitlines,
    collapse whitespace, drop empty lines, drop case-insensitive repeats (casefold, the first is kept),
    join the kept lines each followed by a newline."""
    normalized = unicodedata.normalize("NFKC", raw)
    no_format = "".join(c for c in normalized if unicodedata.category(c) != "Cf")
    out = []
    folded = set()
    for l in _lines(no_format):
        if l.casefold() in folded:
            continue
        folded.add(l.casefold())
        out.append(l)
    return "\n".join(out) + "\n" if out else ""


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
