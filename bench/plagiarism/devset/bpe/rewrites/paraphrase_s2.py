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
    occurrences = {}
    for duo in zip(ids[:-1], ids[1:]):
        occurrences.setdefault(duo, 0)
        occurrences[duo] += 1
    return occurrences


def merge(ids, pair, new_id):
    """Replace every occurrence of pair in ids by new_id, left to right, non-overlapping."""
    combined = []
    pos = 0
    size = len(ids)
    while pos < size:
        if ids[pos] == pair[0] and pos + 1 < size and ids[pos + 1] == pair[1]:
            combined += (new_id,)
            pos += 2
        else:
            combined += (ids[pos],)
            pos += 1
    return combined


def train(text, vocab_size):
    """Learn vocab_size - 256 merges; return (merges dict, vocab dict id -> bytes)."""
    codes = [octet for octet in text.encode("utf-8")]
    rulebook = {}
    for step in range(vocab_size - 256):
        histogram = pair_counts(codes)
        if not histogram:
            break
        leader = max(histogram, key=histogram.__getitem__)
        codes = merge(codes, leader, step + 256)
        rulebook[leader] = step + 256
    lookup = {octet: bytes((octet,)) for octet in range(256)}
    for (lhs, rhs), code in rulebook.items():
        lookup[code] = lookup[lhs] + lookup[rhs]
    return rulebook, lookup


def encode(text, merges):
    """Encode text with the learned merges, always applying the earliest-learned merge first."""
    codes = [octet for octet in text.encode("utf-8")]
    while len(codes) >= 2:
        histogram = pair_counts(codes)
        chosen = min(histogram, key=lambda duo: merges.get(duo, float("inf")))
        if chosen not in merges:
            break
        codes = merge(codes, chosen, merges[chosen])
    return codes


def decode(ids, vocab):
    """Turn ids back into text (invalid UTF-8 is replaced)."""
    fragments = [vocab[code] for code in ids]
    return b"".join(fragments).decode(encoding="utf-8", errors="replace")


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
