"""Project 1, part 1: the data side of a tiny GPT (cleaning, tokenizer, batches, sampling).

Only the standard library and numpy. All randomness goes through the numpy Generator passed in as `rng`.
"""
import unicodedata

import numpy as np


def read_text(path):
    """Read a UTF-8 text file."""
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def clean_corpus(raw):
    """Return the cleaned corpus, one document per line, each once: NFKC, drop Cf characters, splitlines,
    collapse whitespace, drop empty lines, drop case-insensitive repeats (casefold, the first is kept),
    join the kept lines each followed by a newline."""
    body = unicodedata.normalize("NFKC", raw)
    body = "".join(filter(lambda letter: unicodedata.category(letter) != "Cf", body))
    already = set()
    survivors = []
    for row in body.splitlines():
        row = " ".join(row.split())
        if row and row.casefold() not in already:
            already.add(row.casefold())
            survivors.append(row)
    return "".join(map(lambda row: row + "\n", survivors))


class CharTokenizer:
    """Distinct characters of the training text, sorted by code point, get the ids 1, 2, ...; id 0 means unknown."""

    def __init__(self, text):
        symbols = sorted(set(text))
        self.to_id = dict((sym, pos + 1) for pos, sym in enumerate(symbols))
        self.to_sym = dict((pos, sym) for sym, pos in self.to_id.items())

    @property
    def vocab_size(self):
        """Number of distinct characters + 1."""
        return len(self.to_id) + 1

    def encode(self, text):
        """One id per character; a character not in the vocabulary encodes to 0."""
        return [self.to_id.get(sym, 0) for sym in text]

    def decode(self, ids):
        """One character per id; 0 decodes to U+FFFD."""
        return "".join(self.to_sym.get(int(code), "\ufffd") for code in ids)


def split_ids(ids, val_fraction=0.1):
    """Split the id stream into (train, val) lists: the last int(len(ids) * val_fraction) ids are validation."""
    boundary = len(ids) - int(val_fraction * len(ids))
    return list(ids[:boundary]), list(ids[boundary:])


def get_batch(ids, block_size, batch_size, rng):
    """Draw batch_size random windows from the id stream: x[b] = ids[s:s + block_size], y[b] = ids[s + 1:s + block_size + 1].
    Returns two int64 arrays of shape (batch_size, block_size). Raises ValueError when there are fewer than
    block_size + 1 ids."""
    tokens = np.asarray(ids, dtype=np.int64)
    total = tokens.shape[0]
    if total <= block_size:
        raise ValueError(f"a window needs {block_size + 1} ids but only {total} were given")
    offsets = rng.integers(0, total - block_size, size=batch_size)
    inputs = np.stack([tokens[o:o + block_size] for o in offsets])
    targets = np.stack([tokens[o + 1:o + block_size + 1] for o in offsets])
    return inputs, targets


def sample_next(logits, rng, temperature=1.0, top_k=None):
    """Next id from a 1-D array of logits: temperature 0 is greedy (argmax); otherwise sample from
    softmax(logits / temperature), with top_k only among the top_k most likely ids."""
    scores = np.asarray(logits, dtype=np.float64)
    if temperature == 0:
        return int(scores.argmax())
    scores = scores / temperature
    if top_k is not None and top_k < scores.shape[0]:
        cutoff = np.sort(scores)[scores.shape[0] - top_k]
        scores = np.where(scores >= cutoff, scores, -np.inf)
    weights = np.exp(scores - scores.max())
    weights /= weights.sum()
    return int(rng.choice(scores.shape[0], p=weights))


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
