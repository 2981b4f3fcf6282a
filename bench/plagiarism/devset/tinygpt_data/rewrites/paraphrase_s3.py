"""Project 1, part 1: the data side of a tiny GPT (cleaning, tokenizer, batches, sampling).

Only the standard library and numpy. All randomness goes through the numpy Generator passed in as `rng`.
"""
import unicodedata

import numpy as np

REPLACEMENT_CHAR = "\ufffd"


def read_text(path):
    """Read a UTF-8 text file."""
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _drop_invisible(s):
    # Cf = format characters: zero-width spaces, soft hyphens, byte-order marks
    return "".join(ch for ch in s if unicodedata.category(ch) != "Cf")


def clean_corpus(raw):
    """Return the cleaned corpus, one document per line, each once: NFKC, drop Cf characters, splitlines,
    collapse whitespace, drop empty lines, drop case-insensitive repeats (casefold, the first is kept),
    join the kept lines each followed by a newline."""
    tidy = map(lambda ln: " ".join(ln.split()), _drop_invisible(unicodedata.normalize("NFKC", raw)).splitlines())
    first_seen = dict()
    for ln in tidy:
        if ln != "" and ln.casefold() not in first_seen:
            first_seen[ln.casefold()] = ln
    return "".join(ln + "\n" for ln in first_seen.values())


class CharTokenizer:
    """Distinct characters of the training text, sorted by code point, get the ids 1, 2, ...; id 0 means unknown."""

    def __init__(self, text):
        self.table = REPLACEMENT_CHAR + "".join(sorted(set(text)))
        self._ids = {glyph: n for n, glyph in enumerate(self.table) if n > 0}

    @property
    def vocab_size(self):
        """Number of distinct characters + 1."""
        return len(self.table)

    def encode(self, text):
        """One id per character; a character not in the vocabulary encodes to 0."""
        return [self._ids.get(glyph, 0) for glyph in text]

    def decode(self, ids):
        """One character per id; 0 decodes to U+FFFD."""
        width = len(self.table)
        return "".join(self.table[n] if 0 <= n < width else REPLACEMENT_CHAR for n in (int(v) for v in ids))


def split_ids(ids, val_fraction=0.1):
    """Split the id stream into (train, val) lists: the last int(len(ids) * val_fraction) ids are validation."""
    tail = int(val_fraction * len(ids))
    return (list(ids[:-tail]), list(ids[-tail:])) if tail else (list(ids), [])


def get_batch(ids, block_size, batch_size, rng):
    """Draw batch_size random windows from the id stream: x[b] = ids[s:s + block_size], y[b] = ids[s + 1:s + block_size + 1].
    Returns two int64 arrays of shape (batch_size, block_size). Raises ValueError when there are fewer than
    block_size + 1 ids."""
    arr = np.asarray(ids, dtype=np.int64)
    span = block_size + 1
    if arr.size < span:
        raise ValueError(f"get_batch: only {arr.size} ids, a window needs {span}; pass more text or lower block_size")
    views = np.lib.stride_tricks.sliding_window_view(arr, span)
    rows = views[rng.integers(views.shape[0], size=batch_size)]
    return rows[:, :block_size].copy(), rows[:, 1:].copy()


def sample_next(logits, rng, temperature=1.0, top_k=None):
    """Next id from a 1-D array of logits: temperature 0 is greedy (argmax); otherwise sample from
    softmax(logits / temperature), with top_k only among the top_k most likely ids."""
    flat = np.asarray(logits, dtype=np.float64).ravel()
    if temperature == 0:
        return int(flat.argmax())
    pool = np.arange(flat.size) if top_k is None or top_k >= flat.size else np.argpartition(-flat, top_k - 1)[:top_k]
    z = flat[pool] / temperature
    mass = np.exp(z - z.max())
    running = np.cumsum(mass / mass.sum())
    u = rng.random()
    slot = int(np.searchsorted(running, u, side="right"))
    if slot >= pool.size:
        slot = pool.size - 1
    return int(pool[slot])


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
