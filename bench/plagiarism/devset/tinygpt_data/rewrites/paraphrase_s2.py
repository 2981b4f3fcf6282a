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
    plain = unicodedata.normalize("NFKC", raw)
    stripped = ""
    for symbol in plain:
        if not unicodedata.category(symbol) == "Cf":
            stripped = stripped + symbol
    rows = list(filter(None, (" ".join(r.split()) for r in stripped.splitlines())))
    result = []
    lowered = set()
    for r in rows:
        fold = r.casefold()
        if fold not in lowered:
            lowered.add(fold)
            result.append(r)
    return ("\n".join(result) + "\n") if result else ""


class CharTokenizer:
    """Distinct characters of the training text, sorted by code point, get the ids 1, 2, ...; id 0 means unknown."""

    def __init__(self, text):
        self.letters = sorted(set(text))
        self.forward = {}
        self.backward = {0: "\ufffd"}
        number = 1
        for symbol in self.letters:
            self.forward[symbol] = number
            self.backward[number] = symbol
            number += 1

    @property
    def vocab_size(self):
        """Number of distinct characters + 1."""
        return 1 + len(self.letters)

    def encode(self, text):
        """One id per character; a character not in the vocabulary encodes to 0."""
        return [self.forward.get(symbol, 0) for symbol in text]

    def decode(self, ids):
        """One character per id; 0 decodes to U+FFFD."""
        return "".join(self.backward.get(int(code), "\ufffd") for code in ids)


def split_ids(ids, val_fraction=0.1):
    """Split the id stream into (train, val) lists: the last int(len(ids) * val_fraction) ids are validation."""
    seq = list(ids)
    edge = len(seq) - int(len(seq) * val_fraction)
    return seq[:edge], seq[edge:]


def get_batch(ids, block_size, batch_size, rng):
    """Draw batch_size random windows from the id stream: x[b] = ids[s:s + block_size], y[b] = ids[s + 1:s + block_size + 1].
    Returns two int64 arrays of shape (batch_size, block_size). Raises ValueError when there are fewer than
    block_size + 1 ids."""
    seq = np.array(ids, dtype=np.int64)
    length = seq.shape[0]
    if length < block_size + 1:
        raise ValueError("not enough ids: need at least block_size + 1")
    picks = rng.integers(0, length - block_size, size=batch_size)
    inp = np.empty((batch_size, block_size), dtype=np.int64)
    tgt = np.empty((batch_size, block_size), dtype=np.int64)
    for j in range(batch_size):
        begin = picks[j]
        inp[j, :] = seq[begin:begin + block_size]
        tgt[j, :] = seq[begin + 1:begin + block_size + 1]
    return inp, tgt


def normalise(vector):
    shifted = np.exp(vector - vector.max())
    return shifted / shifted.sum()


def sample_next(logits, rng, temperature=1.0, top_k=None):
    """Next id from a 1-D array of logits: temperature 0 is greedy (argmax); otherwise sample from
    softmax(logits / temperature), with top_k only among the top_k most likely ids."""
    vals = np.array(logits, dtype=np.float64)
    if temperature == 0:
        return int(np.argmax(vals))
    if top_k is not None:
        keep = top_k if top_k < vals.size else vals.size
        floor = -np.sort(-vals)[keep - 1]
        vals[vals < floor] = -np.inf
    return int(rng.choice(vals.size, p=normalise(vals / temperature)))


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
