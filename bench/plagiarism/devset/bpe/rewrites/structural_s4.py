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
    result = dict()
    index = 0
    while index < len(ids) - 1:
        key = ids[index], ids[index + 1]
        if key not in result:
            result[key] = 0
        result[key] += 1
        index += 1
    return result


def _pair_at(ids, index, pair):
    return index + 1 < len(ids) and (ids[index], ids[index + 1]) == pair


def merge(ids, pair, new_id):
    """Replace every occurrence of pair in ids by new_id, left to right, non-overlapping."""
    if len(ids) < 2:
        return list(ids)
    merged = []
    index = 0
    while index < len(ids):
        if _pair_at(ids, index, pair):
            merged.append(new_id)
            index += 2
        else:
            merged.append(ids[index])
            index += 1
    return merged


def _best_pair(counts):
    return min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]


def train(text, vocab_size):
    """Learn vocab_size - 256 merges; return (merges dict, vocab dict id -> bytes)."""
    if vocab_size < 256:
        raise ValueError("vocab_size must be at least 256")
    vocab = {b: bytes([b]) for b in range(256)}
    merges = {}
    data = list(text.encode("utf-8"))
    new_id = 256
    while new_id < vocab_size:
        counts = pair_counts(data)
        if not counts:
            break
        best = _best_pair(counts)
        merges[best] = new_id
        vocab[new_id] = vocab[best[0]] + vocab[best[1]]
        data = merge(data, best, new_id)
        print(f"merge {new_id - 255}: {best} -> {new_id}")
        new_id += 1
    return merges, vocab


def encode(text, merges):
    """Encode text with the learned merges, always applying the earliest-learned merge first."""
    data = list(text.encode("utf-8"))
    while len(data) > 1:
        candidates = []
        for p in pair_counts(data):
            if p in merges:
                candidates.append(p)
        if not candidates:
            break
        first = min(candidates, key=merges.__getitem__)
        data = merge(data, first, merges[first])
    return data


def decode(ids, vocab):
    """Turn ids back into text (invalid UTF-8 is replaced)."""
    return b"".join(vocab[t] for t in ids).decode("utf-8", "replace")


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
