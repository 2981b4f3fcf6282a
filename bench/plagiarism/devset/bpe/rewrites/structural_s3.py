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
    from collections import Counter
    counts = Counter()
    for i in range(len(ids) - 1):
        counts[ids[i], ids[i + 1]] += 1
    return counts


def merge(ids, pair, new_id):
    """Replace every occurrence of pair in ids by new_id, left to right, non-overlapping."""
    result = []
    position = 0
    while position < len(ids):
        token = ids[position]
        following = ids[position + 1] if position + 1 < len(ids) else None
        if (token, following) == tuple(pair):
            result.append(new_id)
            position += 2
        else:
            result.append(token)
            position += 1
    return result


def train(text, vocab_size):
    """Learn vocab_size - 256 merges; return (merges dict, vocab dict id -> bytes)."""
    sequence = list(text.encode("utf-8"))
    learned = {}
    pieces = {token: bytes([token]) for token in range(256)}
    for next_id in range(256, vocab_size):
        counts = pair_counts(sequence)
        best, freq = counts.most_common(1)[0] if counts else (None, 0)
        if freq < 2:
            break
        sequence = merge(sequence, best, next_id)
        learned[best] = next_id
        pieces[next_id] = pieces[best[0]] + pieces[best[1]]
    return learned, pieces


def encode(text, merges):
    """Encode text with the learned merges, always applying the earliest-learned merge first."""
    sequence = list(text.encode("utf-8"))
    ordered = sorted(merges.items(), key=lambda item: item[1])
    i = 0
    while i < len(ordered):
        sequence = merge(sequence, ordered[i][0], ordered[i][1])
        i += 1
    return sequence


def decode(ids, vocab):
    """Turn ids back into text (invalid UTF-8 is replaced)."""
    return bytes(byte for token in ids for byte in vocab[token]).decode("utf-8", errors="replace")


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
