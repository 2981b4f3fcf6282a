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
    index = {}
    index[BOUNDARY] = 0
    for word in names:
        for letter in word:
            index.setdefault(letter, len(index))
    return index


def count_bigrams(names, stoi):
    """Return a |V| x |V| matrix of bigram counts, with the boundary before and after each name."""
    from collections import defaultdict
    tally = defaultdict(int)
    for word in names:
        framed = f"{BOUNDARY}{word}{BOUNDARY}"
        for pos in range(1, len(framed)):
            tally[framed[pos - 1], framed[pos]] += 1
    grid = np.zeros((len(stoi), len(stoi)))
    for (first, second), freq in tally.items():
        if first in stoi and second in stoi:
            grid[stoi[first], stoi[second]] = freq
    return grid


def to_probabilities(counts, alpha=1.0):
    """Add-alpha smoothing, then normalise each row into a distribution."""
    grid = np.array(counts, dtype=float) + alpha
    return grid / grid.sum(axis=1).reshape(-1, 1)


def nll(names, probs, stoi):
    """Average negative log-likelihood per bigram over the names."""
    scores = []
    for word in names:
        codes = [stoi.get(letter) for letter in f"{BOUNDARY}{word}{BOUNDARY}"]
        scores += [math.log(probs[a][b]) for a, b in zip(codes, codes[1:]) if a is not None and b is not None]
    return -sum(scores) / len(scores) if scores else float("inf")


def sample(probs, itos, n, seed=0):
    """Sample n names using numpy's default_rng(seed)."""
    gen = np.random.default_rng(seed)
    size = len(probs)
    produced = []
    while len(produced) < n:
        pos, buffer = 0, []
        for _step in range(50):
            pos = gen.choice(size, p=probs[pos])
            if pos == 0:
                break
            buffer.append(itos[int(pos)])
        produced.append("".join(buffer))
    return produced


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
