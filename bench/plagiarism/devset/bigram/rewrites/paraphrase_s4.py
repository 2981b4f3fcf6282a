"""Assignment 1: a character-level bigram language model.

Fill in the functions marked TODO. Do not change their signatures: the grader calls them.
"""
import math
import random

import numpy as np

BOUNDARY = "."


def load_names(path):
    """Return the lowercase names in the file, one per line, blank lines dropped."""
    with open(path, encoding="utf-8") as handle:
        return [line.strip().lower() for line in handle if line.strip()]


def split_names(names, dev_share=0.1, seed=42):
    """Shuffle deterministically and split into train and dev lists."""
    shuffled = list(names)
    random.Random(seed).shuffle(shuffled)
    cut = int(len(shuffled) * (1 - dev_share))
    return shuffled[:cut], shuffled[cut:]


def build_vocab(names):
    """Map the boundary marker to 0 and every character to an integer id."""
    seen = set()
    for word in names:
        seen |= set(word)
    ordered = [BOUNDARY, *sorted(seen)]
    return dict(zip(ordered, range(len(ordered))))


def count_bigrams(names, stoi):
    """Return a |V| x |V| matrix of bigram counts, with the boundary before and after each name."""
    from collections import Counter
    pair_freq = Counter()
    for word in names:
        ids = list(map(stoi.__getitem__, BOUNDARY + word + BOUNDARY))
        pair_freq.update(zip(ids[:-1], ids[1:]))
    grid = np.zeros([len(stoi), len(stoi)], dtype=np.int64)
    if pair_freq:
        src, dst = map(list, zip(*pair_freq))
        grid[src, dst] = list(pair_freq.values())
    return grid


def to_probabilities(counts, alpha=1.0):
    """Add-alpha smoothing, then normalise each row into a distribution."""
    assert alpha >= 0, "the smoothing constant cannot be negative"
    smoothed = counts + alpha
    totals = smoothed.sum(axis=-1, keepdims=True)
    np.copyto(totals, 1, where=totals == 0)
    return smoothed / totals


def nll(names, probs, stoi):
    """Average negative log-likelihood per bigram over the names."""
    src, dst = [], []
    for word in names:
        ids = [stoi[ch] for ch in (BOUNDARY, *word, BOUNDARY) if ch in stoi]
        src += ids[:-1]
        dst += ids[1:]
    chosen = probs[np.asarray(src), np.asarray(dst)]
    return float(-np.log(chosen).mean())


def sample(probs, itos, n, seed=0):
    """Sample n names using numpy's default_rng(seed)."""
    rng = np.random.default_rng(seed)
    cdf = np.cumsum(probs, 1)
    last = len(itos) - 1
    output = []
    for _ in range(n):
        cur, chars = 0, []
        while len(chars) < 30:
            cur = min(int(cdf[cur].searchsorted(rng.random())), last)
            if not cur:
                break
            chars.append(itos[cur])
        output.append("".join(chars))
    return output


def main():
    names = load_names("names.txt")
    train, dev = split_names(names)
    stoi = build_vocab(train)
    itos = {i: ch for ch, i in stoi.items()}
    probs = to_probabilities(count_bigrams(train, stoi))
    print(f"train nll = {nll(train, probs, stoi):.4f}")
    print(f"dev nll   = {nll(dev, probs, stoi):.4f}")
    print(f"dev perplexity = {math.exp(nll(dev, probs, stoi)):.2f}")
    for name in sample(probs, itos, 5):
        print(name)


if __name__ == "__main__":
    main()
