"""Project 1, part 1: the data side of a tiny GPT (cleaning, tokenizer, batches, sampling).

Only the standard library and numpy. All randomness goes through the numpy Generator passed in as `rng`.
"""
import unicodedata

import numpy as np

UNKNOWN = "\ufffd"


def read_text(path):
    """Read a UTF-8 text file."""
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _visible(text):
    # format characters (zero-width space, soft hyphen, BOM, ...) carry no content
    return "".join(filter(lambda c: unicodedata.category(c) != "Cf", text))


def clean_corpus(raw):
    """Return the cleaned corpus, one document per line, each once: NFKC, drop Cf characters, splitlines,
    collapse whitespace, drop empty lines, drop case-insensitive repeats (casefold, the first is kept),
    join the kept lines each followed by a newline."""
    squeezed = (" ".join(row.split()) for row in _visible(unicodedata.normalize("NFKC", raw)).splitlines())
    firsts = {}
    for row in squeezed:
        if row:
            firsts.setdefault(row.casefold(), row)
    return "".join(f"{row}\n" for row in firsts.values())


class CharTokenizer:
    """Distinct characters of the training text, sorted by code point, get the ids 1, 2, ...; id 0 means unknown."""

    def __init__(self, text):
        self.alphabet = UNKNOWN + "".join(sorted(set(text)))
        self._lookup = {symbol: position for position, symbol in enumerate(self.alphabet) if position}

    @property
    def vocab_size(self):
        """Number of distinct characters + 1."""
        return len(self.alphabet)

    def encode(self, text):
        """One id per character; a character not in the vocabulary encodes to 0."""
        return list(map(lambda symbol: self._lookup.get(symbol, 0), text))

    def decode(self, ids):
        """One character per id; 0 decodes to U+FFFD."""
        size = len(self.alphabet)
        return "".join(self.alphabet[token] if 0 <= token < size else UNKNOWN for token in map(int, ids))


def split_ids(ids, val_fraction=0.1):
    """Split the id stream into (train, val) lists: the last int(len(ids) * val_fraction) ids are validation."""
    held_out = int(len(ids) * val_fraction)
    if held_out == 0:
        return list(ids), []
    return list(ids[:-held_out]), list(ids[-held_out:])


def get_batch(ids, block_size, batch_size, rng):
    """Draw batch_size random windows from the id stream: x[b] = ids[s:s + block_size], y[b] = ids[s + 1:s + block_size + 1].
    Returns two int64 arrays of shape (batch_size, block_size). Raises ValueError when there are fewer than
    block_size + 1 ids."""
    stream = np.asarray(ids, dtype=np.int64)
    if stream.size < block_size + 1:
        raise ValueError(f"get_batch: {stream.size} ids cannot hold a window of {block_size} + 1; use a longer text or a smaller block_size")
    # every window of block_size + 1 ids; the input is its head, the target its tail
    windows = np.lib.stride_tricks.sliding_window_view(stream, block_size + 1)
    chosen = windows[rng.integers(windows.shape[0], size=batch_size)]
    return chosen[:, :-1].copy(), chosen[:, 1:].copy()


def sample_next(logits, rng, temperature=1.0, top_k=None):
    """Next id from a 1-D array of logits: temperature 0 is greedy (argmax); otherwise sample from
    softmax(logits / temperature), with top_k only among the top_k most likely ids."""
    scores = np.asarray(logits, dtype=np.float64).ravel()
    if temperature == 0:
        return int(np.argmax(scores))
    candidates = np.arange(scores.size)
    if top_k is not None and top_k < scores.size:
        candidates = np.argpartition(-scores, top_k - 1)[:top_k]
    scaled = scores[candidates] / temperature
    weights = np.exp(scaled - scaled.max())
    cdf = np.cumsum(weights / weights.sum())
    pick = min(int(np.searchsorted(cdf, rng.random(), side="right")), candidates.size - 1)
    return int(candidates[pick])


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
