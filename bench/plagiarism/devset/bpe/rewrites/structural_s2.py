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
    stats = {}
    for i, a in enumerate(ids[:-1]):
        b = ids[i + 1]
        stats[(a, b)] = stats.get((a, b), 0) + 1
    return stats


def merge(ids, pair, new_id):
    """Replace every occurrence of pair in ids by new_id, left to right, non-overlapping."""
    out = []
    n = len(ids)
    i = 0
    while i < n:
        if ids[i] != pair[0] or i + 1 >= n or ids[i + 1] != pair[1]:
            out.append(ids[i])
            i += 1
            continue
        out.append(new_id)
        i += 2
    return out


def _build_vocab(merges):
    vocab = {i: bytes([i]) for i in range(256)}
    for (a, b), idx in merges.items():
        vocab[idx] = vocab[a] + vocab[b]
    return vocab


def train(text, vocab_size):
    """Learn vocab_size - 256 merges; return (merges dict, vocab dict id -> bytes)."""
    merges = {}
    ids = list(text.encode("utf-8"))
    idx = 256
    while idx < vocab_size:
        stats = pair_counts(ids)
        if not stats:
            break
        top = max(stats, key=stats.get)
        merges[top] = idx
        ids = merge(ids, top, idx)
        idx += 1
    return merges, _build_vocab(merges)


def encode(text, merges):
    """Encode text with the learned merges, always applying the earliest-learned merge first."""
    ids = list(text.encode("utf-8"))
    while True:
        if len(ids) <= 1:
            break
        stats = pair_counts(ids)
        best = min(stats, key=lambda p: merges.get(p, float("inf")))
        if best in merges:
            ids = merge(ids, best, merges[best])
        else:
            break
    return ids


def decode(ids, vocab):
    """Turn ids back into text (invalid UTF-8 is replaced)."""
    raw = b"".join([vocab[i] for i in ids])
    return raw.decode("utf-8", errors="replace")


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
