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
    import collections
    return collections.Counter(zip(ids[:-1], ids[1:]))


def merge(ids, pair, new_id):
    """Replace every occurrence of pair in ids by new_id, left to right, non-overlapping."""
    fused = []
    jump = False
    for k, current in enumerate(ids):
        if jump:
            jump = False
            continue
        nxt = ids[k + 1] if k + 1 < len(ids) else None
        if (current, nxt) == tuple(pair):
            fused += [new_id]
            jump = True
        else:
            fused += [current]
    return fused


def train(text, vocab_size):
    """Learn vocab_size - 256 merges; return (merges dict, vocab dict id -> bytes)."""
    stream = list(text.encode("utf-8"))
    rules, table = {}, {b: bytes([b]) for b in range(256)}
    fresh = 256
    while fresh < vocab_size:
        histogram = pair_counts(stream)
        if not histogram:
            break
        [(top, hits)] = histogram.most_common(1)
        if hits < 2:
            break
        stream = merge(stream, top, fresh)
        rules[top] = fresh
        table[fresh] = table[top[0]] + table[top[1]]
        fresh += 1
    return rules, table


def encode(text, merges):
    """Encode text with the learned merges, always applying the earliest-learned merge first."""
    stream = list(text.encode("utf-8"))
    for rule, fresh in sorted(merges.items(), key=lambda kv: kv[1]):
        stream = merge(stream, rule, fresh)
    return stream


def decode(ids, vocab):
    """Turn ids back into text (invalid UTF-8 is replaced)."""
    buffer = bytearray()
    for code in ids:
        buffer += vocab[code]
    return buffer.decode("utf-8", errors="replace")


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
