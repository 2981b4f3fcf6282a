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
    vocab = {BOUNDARY: 0}
    for name in names:
        for ch in name:
            if ch not in vocab:
                vocab[ch] = len(vocab)
    return vocab


def count_bigrams(names, stoi):
    """Return a |V| x |V| matrix of bigram counts, with the boundary before and after each name."""
    pairs = {}
    for name in names:
        padded = BOUNDARY + name + BOUNDARY
        for i in range(len(padded) - 1):
            key = (padded[i], padded[i + 1])
            pairs[key] = pairs.get(key, 0) + 1
    table = np.zeros((len(stoi), len(stoi)))
    for (left, right), c in pairs.items():
        if left in stoi and right in stoi:
            table[stoi[left]][stoi[right]] = c
    return table


def to_probabilities(counts, alpha=1.0):
    """Add-alpha smoothing, then normalise each row into a distribution."""
    smoothed = np.asarray(counts, dtype=float) + alpha
    row_totals = smoothed.sum(axis=1)
    return smoothed / row_totals[:, None]


def nll(names, probs, stoi):
    """Average negative log-likelihood per bigram over the names."""
    logs = []
    for name in names:
        padded = BOUNDARY + name + BOUNDARY
        ids = [stoi.get(ch) for ch in padded]
        for left, right in zip(ids[:-1], ids[1:]):
            if left is None or right is None:
                continue
            logs.append(math.log(probs[left][right]))
    if not logs:
        return float("inf")
    return -sum(logs) / len(logs)


def sample(probs, itos, n, seed=0):
    """Sample n names using numpy's default_rng(seed)."""
    rng = np.random.default_rng(seed)
    vocab_size = probs.shape[0]
    names = []
    while len(names) < n:
        current = 0
        text = ""
        for _ in range(50):
            current = rng.choice(vocab_size, p=probs[current])
            if current == 0:
                break
            text += itos[int(current)]
        names.append(text)
    return names


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
