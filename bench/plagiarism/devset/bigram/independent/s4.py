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
    alphabet = set()
    for name in names:
        alphabet.update(name)
    return {ch: idx for idx, ch in enumerate([BOUNDARY] + sorted(alphabet))}


def count_bigrams(names, stoi):
    """Return a |V| x |V| matrix of bigram counts, with the boundary before and after each name."""
    from collections import Counter
    counter = Counter()
    for name in names:
        tokens = [stoi[c] for c in BOUNDARY + name + BOUNDARY]
        counter.update(zip(tokens, tokens[1:]))
    matrix = np.zeros((len(stoi), len(stoi)), dtype=np.int64)
    if counter:
        rows, cols = zip(*counter.keys())
        matrix[list(rows), list(cols)] = list(counter.values())
    return matrix


def to_probabilities(counts, alpha=1.0):
    """Add-alpha smoothing, then normalise each row into a distribution."""
    assert alpha >= 0, "alpha must be non-negative"
    weights = counts + alpha
    sums = weights.sum(axis=-1, keepdims=True)
    sums[sums == 0] = 1
    return weights / sums


def nll(names, probs, stoi):
    """Average negative log-likelihood per bigram over the names."""
    rows, cols = [], []
    for name in names:
        tokens = [stoi[c] for c in BOUNDARY + name + BOUNDARY if c in stoi]
        rows.extend(tokens[:-1])
        cols.extend(tokens[1:])
    picked = probs[np.array(rows), np.array(cols)]
    return float(-np.mean(np.log(picked)))


def sample(probs, itos, n, seed=0):
    """Sample n names using numpy's default_rng(seed)."""
    generator = np.random.default_rng(seed)
    cumulative = np.cumsum(probs, axis=1)
    samples = []
    for _ in range(n):
        state, letters = 0, []
        while len(letters) < 30:
            state = int(np.searchsorted(cumulative[state], generator.random()))
            state = min(state, len(itos) - 1)
            if state == 0:
                break
            letters.append(itos[state])
        samples.append("".join(letters))
    return samples


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
