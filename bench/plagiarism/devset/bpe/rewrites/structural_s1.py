"""Assignment 2: a byte-level BPE tokenizer.

Implement the TODO functions. Token ids 0..255 are the raw bytes; merges get ids from 256 upwards.
"""
import json
from pathlib import Path


def read_corpus(path):
    """Read the training corpus as one string."""
    return Path(path).read_text(encoding="utf-8")


def save_merges(merges, path):
    """Store merges as a JSON list of [left, right, new_id] triples, in merge order."""
    triples = [[left, right, new_id] for (left, right), new_id in merges.items()]
    Path(path).write_text(json.dumps(triples))


def pair_counts(ids):
    """Count how often each adjacent pair of ids occurs."""
    counts = {}
    for i in range(len(ids) - 1):
        pair = (ids[i], ids[i + 1])
        counts[pair] = counts.get(pair, 0) + 1
    return counts


def merge(ids, pair, new_id):
    """Replace every occurrence of pair in ids by new_id, left to right, non-overlapping."""
    newids = []
    i = 0
    n = len(ids)
    while i < n:
        matches = i + 1 < n and (ids[i], ids[i + 1]) == tuple(pair)
        newids.append(new_id if matches else ids[i])
        i += 2 if matches else 1
    return newids


def train(text, vocab_size):
    """Learn vocab_size - 256 merges; return (merges dict, vocab dict id -> bytes)."""
    ids = list(text.encode("utf-8"))
    merges = {}
    vocab = {idx: bytes([idx]) for idx in range(256)}
    idx = 256
    while idx < vocab_size:
        stats = pair_counts(ids)
        if not stats:
            break
        pair = max(stats, key=stats.get)
        ids = merge(ids, pair, idx)
        merges[pair] = idx
        vocab[idx] = vocab[pair[0]] + vocab[pair[1]]
        idx += 1
    return merges, vocab


def _next_merge(tokens, merges):
    if len(tokens) < 2:
        return None
    stats = pair_counts(tokens)
    pair = min(stats, key=lambda p: merges.get(p, float("inf")))
    return pair if pair in merges else None


def encode(text, merges):
    """Encode text with the learned merges, always applying the earliest-learned merge first."""
    tokens = list(text.encode("utf-8"))
    pair = _next_merge(tokens, merges)
    while pair is not None:
        tokens = merge(tokens, pair, merges[pair])
        pair = _next_merge(tokens, merges)
    return tokens


def decode(ids, vocab):
    """Turn ids back into text (invalid UTF-8 is replaced)."""
    return b"".join(vocab[idx] for idx in ids).decode("utf-8", errors="replace")


def main():
    text = read_corpus("corpus.txt")
    merges, vocab = train(text, 512)
    save_merges(merges, "merges.json")
    sample = "the quick brown fox"
    ids = encode(sample, merges)
    print(len(sample.encode("utf-8")), "bytes ->", len(ids), "tokens")
    assert decode(ids, vocab) == sample


if __name__ == "__main__":
    main()
