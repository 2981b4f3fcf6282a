"""Project 1, part 1: the data side of a tiny GPT (cleaning, tokenizer, batches, sampling).

Only the standard library and numpy. All randomness goes through the numpy Generator passed in as `rng`.
"""
import unicodedata

import numpy as np


def read_text(path):
    """Read a UTF-8 text file."""
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def nfkc(text):
    return unicodedata.normalize("NFKC", text)


def strip_format_chars(text):
    return "".join([c for c in text if unicodedata.category(c) != "Cf"])


def collapse_spaces(line):
    return " ".join(line.split())


def unique_casefold(lines):
    result, keys = [], set()
    for line in lines:
        folded = line.casefold()
        if folded in keys:
            continue
        keys.add(folded)
        result.append(line)
    return result


def clean_corpus(raw):
    """Return the cleaned corpus, one document per line, each once: NFKC, drop Cf characters, splitlines,
    collapse whitespace, drop empty lines, drop case-insensitive repeats (casefold, the first is kept),
    join the kept lines each followed by a newline."""
    lines = strip_format_chars(nfkc(raw)).splitlines()
    lines = [collapse_spaces(line) for line in lines]
    lines = unique_casefold([line for line in lines if line != ""])
    return "\n".join(lines) + "\n" if lines else ""


class CharTokenizer:
    """Distinct characters of the training text, sorted by code point, get the ids 1, 2, ...; id 0 means unknown."""

    REPLACEMENT = "\ufffd"

    def __init__(self, text):
        codepoints = sorted({ord(c) for c in text})
        self.vocab = [None] + [chr(cp) for cp in codepoints]
        self.index = dict(zip(self.vocab[1:], range(1, len(self.vocab))))

    @property
    def vocab_size(self):
        """Number of distinct characters + 1."""
        return len(self.vocab)

    def encode(self, text):
        """One id per character; a character not in the vocabulary encodes to 0."""
        return [self.index[c] if c in self.index else 0 for c in text]

    def decode(self, ids):
        """One character per id; 0 decodes to U+FFFD."""
        pieces = []
        for token in ids:
            token = int(token)
            if 0 < token < len(self.vocab):
                pieces.append(self.vocab[token])
            else:
                pieces.append(self.REPLACEMENT)
        return "".join(pieces)


def split_ids(ids, val_fraction=0.1):
    """Split the id stream into (train, val) lists: the last int(len(ids) * val_fraction) ids are validation."""
    boundary = len(ids) - int(val_fraction * len(ids))
    train = [ids[i] for i in range(boundary)]
    val = [ids[i] for i in range(boundary, len(ids))]
    return train, val


def get_batch(ids, block_size, batch_size, rng):
    """Draw batch_size random windows from the id stream: x[b] = ids[s:s + block_size], y[b] = ids[s + 1:s + block_size + 1].
    Returns two int64 arrays of shape (batch_size, block_size). Raises ValueError when there are fewer than
    block_size + 1 ids."""
    n = len(ids)
    if n - block_size < 1:
        raise ValueError("not enough ids: the stream must be longer than block_size")
    data = np.array(ids, dtype=np.int64)
    offsets = np.arange(block_size)
    starts = rng.choice(n - block_size, size=batch_size, replace=True)
    positions = starts[:, None] + offsets[None, :]
    return data[positions], data[positions + 1]


def sample_next(logits, rng, temperature=1.0, top_k=None):
    """Next id from a 1-D array of logits: temperature 0 is greedy (argmax); otherwise sample from
    softmax(logits / temperature), with top_k only among the top_k most likely ids."""
    values = np.array(logits, dtype=np.float64)
    if temperature <= 0:
        return int(values.argmax())
    order = np.argsort(-values, kind="stable")
    if top_k:
        order = order[:top_k]
    kept = values[order] / temperature
    kept = np.exp(kept - kept[0])
    kept /= kept.sum()
    return int(order[rng.choice(len(order), p=kept)])


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
