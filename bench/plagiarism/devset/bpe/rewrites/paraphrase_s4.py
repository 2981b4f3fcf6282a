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
    for pos in range(len(ids) - 1):
        couple = (ids[pos], ids[pos + 1])
        try:
            tally[couple] += 1
        except KeyError:
            tally[couple] = 1
    return tally


def merge(ids, pair, new_id):
    """Replace every occurrence of pair in ids by new_id, left to right, non-overlapping."""
    if len(ids) < 2:
        return [*ids]
    fused, cursor = [], 0
    bound = len(ids)
    while cursor < bound:
        if cursor + 1 < bound and tuple(ids[cursor:cursor + 2]) == pair:
            fused += [new_id]
            cursor += 2
            continue
        fused += [ids[cursor]]
        cursor += 1
    return fused


def train(text, vocab_size):
    """Learn vocab_size - 256 merges; return (merges dict, vocab dict id -> bytes)."""
    if vocab_size < 256:
        raise ValueError("vocab_size must be at least 256")
    stream = list(text.encode("utf-8"))
    learned, alphabet = {}, {}
    alphabet.update((octet, bytes([octet])) for octet in range(256))
    for code in range(256, vocab_size):
        histogram = pair_counts(stream)
        if not histogram:
            break
        winner, _ = sorted(histogram.items(), key=lambda entry: (-entry[1], entry[0]))[0]
        stream = merge(stream, winner, code)
        learned[winner] = code
        alphabet[code] = alphabet[winner[0]] + alphabet[winner[1]]
        print("merge {}: {} -> {}".format(code - 255, winner, code))
    return learned, alphabet


def encode(text, merges):
    """Encode text with the learned merges, always applying the earliest-learned merge first."""
    stream = list(text.encode("utf-8"))
    progress = True
    while progress and len(stream) > 1:
        progress = False
        eligible = list(filter(merges.__contains__, pair_counts(stream)))
        if eligible:
            earliest = min(eligible, key=merges.get)
            stream = merge(stream, earliest, merges[earliest])
            progress = True
    return stream


def decode(ids, vocab):
    """Turn ids back into text (invalid UTF-8 is replaced)."""
    fragments = [vocab[token] for token in ids]
    return b"".join(fragments).decode("utf-8", errors="replace")


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
