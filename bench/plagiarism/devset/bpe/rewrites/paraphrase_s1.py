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
    tally = {}
    for left, right in zip(ids, ids[1:]):
        tally[left, right] = 1 + tally.get((left, right), 0)
    return tally


def merge(ids, pair, new_id):
    """Replace every occurrence of pair in ids by new_id, left to right, non-overlapping."""
    output, cursor = [], 0
    while cursor < len(ids):
        if cursor + 1 < len(ids) and ids[cursor] == pair[0] and ids[cursor + 1] == pair[1]:
            output.append(new_id)
            cursor += 2
            continue
        output.append(ids[cursor])
        cursor += 1
    return output


def train(text, vocab_size):
    """Learn vocab_size - 256 merges; return (merges dict, vocab dict id -> bytes)."""
    sequence = [*text.encode("utf-8")]
    table = {}
    pieces = {byte: bytes([byte]) for byte in range(256)}
    for step in range(vocab_size - 256):
        frequencies = pair_counts(sequence)
        if not frequencies:
            break
        winner = max(frequencies, key=frequencies.get)
        fresh = step + 256
        sequence = merge(sequence, winner, fresh)
        table[winner] = fresh
        pieces[fresh] = pieces[winner[0]] + pieces[winner[1]]
    return table, pieces


def encode(text, merges):
    """Encode text with the learned merges, always applying the earliest-learned merge first."""
    sequence = [*text.encode("utf-8")]
    while len(sequence) > 1:
        frequencies = pair_counts(sequence)
        earliest = min(frequencies, key=lambda candidate: merges.get(candidate, float("inf")))
        if earliest not in merges:
            break
        sequence = merge(sequence, earliest, merges[earliest])
    return sequence


def decode(ids, vocab):
    """Turn ids back into text (invalid UTF-8 is replaced)."""
    joined = bytes().join(map(vocab.__getitem__, ids))
    return joined.decode("utf-8", errors="replace")


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
