"""Project 1, part 1: the data side of a tiny GPT (cleaning, tokenizer, batches, sampling).

Only the standard library and numpy. All randomness goes through the numpy Generator passed in as `rng`.
"""
import unicodedata

import numpy as np


def read_text(path):
    """Read a UTF-8 text file."""
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def to_nfkc(s):
    return unicodedata.normalize("NFKC", s)


def remove_cf(s):
    return "".join(filter(lambda ch: unicodedata.category(ch) != "Cf", s))


def squeeze_ws(row):
    return " ".join(row.split())


def first_of_each(rows):
    picked, folded = [], set()
    for row in rows:
        marker = row.casefold()
        if marker not in folded:
            folded.add(marker)
            picked.append(row)
    return picked


def clean_corpus(raw):
    """Return the cleaned corpus, one document per line, each once: NFKC, drop Cf characters, splitlines,
    collapse whitespace, drop empty lines, drop case-insensitive repeats (casefold, the first is kept),
    join the kept lines each followed by a newline."""
    rows = map(squeeze_ws, remove_cf(to_nfkc(raw)).splitlines())
    rows = first_of_each(r for r in rows if len(r) > 0)
    return "".join(r + "\n" for r in rows)


class CharTokenizer:
    """Distinct characters of the training text, sorted by code point, get the ids 1, 2, ...; id 0 means unknown."""

    FALLBACK = "\ufffd"

    def __init__(self, text):
        self.symbols = [None, *map(chr, sorted(set(map(ord, text))))]
        self.ids = {s: n for n, s in enumerate(self.symbols) if n}

    @property
    def vocab_size(self):
        """Number of distinct characters + 1."""
        return len(self.symbols)

    def encode(self, text):
        """One id per character; a character not in the vocabulary encodes to 0."""
        return [self.ids[s] if s in self.ids else 0 for s in text]

    def decode(self, ids):
        """One character per id; 0 decodes to U+FFFD."""
        out = ""
        for n in map(int, ids):
            out += self.symbols[n] if 1 <= n <= len(self.symbols) - 1 else self.FALLBACK
        return out


def split_ids(ids, val_fraction=0.1):
    """Split the id stream into (train, val) lists: the last int(len(ids) * val_fraction) ids are validation."""
    pivot = len(ids) - int(len(ids) * val_fraction)
    head = [ids[j] for j in range(pivot)]
    return head, [ids[j] for j in range(pivot, len(ids))]


def get_batch(ids, block_size, batch_size, rng):
    """Draw batch_size random windows from the id stream: x[b] = ids[s:s + block_size], y[b] = ids[s + 1:s + block_size + 1].
    Returns two int64 arrays of shape (batch_size, block_size). Raises ValueError when there are fewer than
    block_size + 1 ids."""
    count = len(ids)
    if count - block_size < 1:
        raise ValueError("too few ids: the id list has to be longer than block_size")
    tokens = np.array(ids, dtype=np.int64)
    begins = rng.choice(count - block_size, size=batch_size, replace=True)
    grid = begins.reshape(-1, 1) + np.arange(block_size).reshape(1, -1)
    return tokens[grid], tokens[grid + 1]


def sample_next(logits, rng, temperature=1.0, top_k=None):
    """Next id from a 1-D array of logits: temperature 0 is greedy (argmax); otherwise sample from
    softmax(logits / temperature), with top_k only among the top_k most likely ids."""
    arr = np.array(logits, dtype=np.float64)
    if temperature <= 0:
        return int(np.argmax(arr))
    ranking = np.argsort(-arr, kind="stable")
    if top_k:
        ranking = ranking[:top_k]
    weights = arr[ranking] / temperature
    weights = np.exp(weights - weights[0])
    weights = weights / weights.sum()
    return int(ranking[rng.choice(ranking.size, p=weights)])


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
