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
    for ch in (ch for name in names for ch in name):
        vocab.setdefault(ch, len(vocab))
    return vocab


def count_bigrams(names, stoi):
    """Return a |V| x |V| matrix of bigram counts, with the boundary before and after each name."""
    table = np.zeros((len(stoi), len(stoi)))
    for name in names:
        padded = BOUNDARY + name + BOUNDARY
        i = 0
        while i < len(padded) - 1:
            left, right = padded[i], padded[i + 1]
            if left in stoi and right in stoi:
                table[stoi[left]][stoi[right]] += 1
            i += 1
    return table


def to_probabilities(counts, alpha=1.0):
    """Add-alpha smoothing, then normalise each row into a distribution."""
    smoothed = np.asarray(counts, dtype=float) + alpha
    return smoothed / smoothed.sum(axis=1)[:, None]


def _id_pairs(names, stoi):
    pairs = []
    for name in names:
        ids = [stoi.get(ch) for ch in BOUNDARY + name + BOUNDARY]
        pairs.extend((l, r) for l, r in zip(ids[:-1], ids[1:]) if l is not None and r is not None)
    return pairs


def nll(names, probs, stoi):
    """Average negative log-likelihood per bigram over the names."""
    logs = [math.log(probs[left][right]) for left, right in _id_pairs(names, stoi)]
    return -sum(logs) / len(logs) if logs else float("inf")


def sample(probs, itos, n, seed=0):
    """Sample n names using numpy's default_rng(seed)."""
    rng = np.random.default_rng(seed)
    vocab_size = probs.shape[0]
    names = []
    for _ in range(n):
        current, text, steps = 0, "", 0
        while steps < 50:
            current = rng.choice(vocab_size, p=probs[current])
            steps += 1
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
