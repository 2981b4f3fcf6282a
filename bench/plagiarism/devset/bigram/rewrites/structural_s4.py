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
    alphabet = {ch for name in names for ch in name}
    stoi = {}
    for idx, ch in enumerate([BOUNDARY] + sorted(alphabet)):
        stoi[ch] = idx
    return stoi


def count_bigrams(names, stoi):
    """Return a |V| x |V| matrix of bigram counts, with the boundary before and after each name."""
    from collections import Counter
    matrix = np.zeros((len(stoi), len(stoi)), dtype=np.int64)
    counter = Counter()
    for name in names:
        tokens = [stoi[c] for c in BOUNDARY + name + BOUNDARY]
        for pair in zip(tokens, tokens[1:]):
            counter[pair] += 1
    if not counter:
        return matrix
    rows, cols = zip(*counter.keys())
    matrix[list(rows), list(cols)] = list(counter.values())
    return matrix


def to_probabilities(counts, alpha=1.0):
    """Add-alpha smoothing, then normalise each row into a distribution."""
    assert alpha >= 0, "alpha must be non-negative"
    weights = counts + alpha
    sums = weights.sum(axis=-1, keepdims=True)
    return weights / np.where(sums == 0, 1, sums)


def nll(names, probs, stoi):
    """Average negative log-likelihood per bigram over the names."""
    seqs = [[stoi[c] for c in BOUNDARY + name + BOUNDARY if c in stoi] for name in names]
    rows = [t for tokens in seqs for t in tokens[:-1]]
    cols = [t for tokens in seqs for t in tokens[1:]]
    picked = probs[np.array(rows), np.array(cols)]
    return float(-np.mean(np.log(picked)))


def sample(probs, itos, n, seed=0):
    """Sample n names using numpy's default_rng(seed)."""
    cumulative = np.cumsum(probs, axis=1)
    generator = np.random.default_rng(seed)
    samples = []
    while len(samples) < n:
        state, letters = 0, []
        for _ in range(30):
            state = min(int(np.searchsorted(cumulative[state], generator.random())), len(itos) - 1)
            if state != 0:
                letters.append(itos[state])
            else:
                break
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
