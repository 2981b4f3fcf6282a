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
    for index in range(len(ids) - 1):
        key = ids[index], ids[index + 1]
        if key in result:
            result[key] += 1
        else:
            result[key] = 1
    return result


def merge(ids, pair, new_id):
    """Replace every occurrence of pair in ids by new_id, left to right, non-overlapping."""
    if len(ids) < 2:
        return list(ids)
    merged, index = [], 0
    limit = len(ids)
    while index < limit:
        if index + 1 < limit and (ids[index], ids[index + 1]) == pair:
            merged.append(new_id)
            index += 2
            continue
        merged.append(ids[index])
        index += 1
    return merged


def train(text, vocab_size):
    """Learn vocab_size - 256 merges; return (merges dict, vocab dict id -> bytes)."""
    if vocab_size < 256:
        raise ValueError("vocab_size must be at least 256")
    data = list(text.encode("utf-8"))
    merges, vocab = {}, {}
    for b in range(256):
        vocab[b] = bytes([b])
    for new_id in range(256, vocab_size):
        counts = pair_counts(data)
        if not counts:
            break
        best = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        data = merge(data, best, new_id)
        merges[best] = new_id
        vocab[new_id] = vocab[best[0]] + vocab[best[1]]
        print(f"merge {new_id - 255}: {best} -> {new_id}")
    return merges, vocab


def encode(text, merges):
    """Encode text with the learned merges, always applying the earliest-learned merge first."""
    data = list(text.encode("utf-8"))
    changed = True
    while changed and len(data) > 1:
        changed = False
        candidates = [p for p in pair_counts(data) if p in merges]
        if candidates:
            first = min(candidates, key=merges.__getitem__)
            data = merge(data, first, merges[first])
            changed = True
    return data


def decode(ids, vocab):
    """Turn ids back into text (invalid UTF-8 is replaced)."""
    chunks = [vocab[t] for t in ids]
    return b"".join(chunks).decode("utf-8", "replace")


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
