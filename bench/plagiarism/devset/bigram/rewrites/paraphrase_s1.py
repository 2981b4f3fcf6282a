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
    symbols = sorted({letter for word in names for letter in word})
    mapping = dict(zip(symbols, range(1, len(symbols) + 1)))
    mapping[BOUNDARY] = 0
    return mapping


def count_bigrams(names, stoi):
    """Return a |V| x |V| matrix of bigram counts, with the boundary before and after each name."""
    table = np.zeros(shape=(len(stoi),) * 2, dtype=np.int32)
    for word in names:
        padded = [BOUNDARY, *word, BOUNDARY]
        for prev, nxt in zip(padded[:-1], padded[1:]):
            table[stoi[prev], stoi[nxt]] += 1
    return table


def to_probabilities(counts, alpha=1.0):
    """Add-alpha smoothing, then normalise each row into a distribution."""
    smoothed = np.add(counts, alpha, dtype=np.float64)
    smoothed /= smoothed.sum(axis=1, keepdims=True)
    return smoothed


def nll(names, probs, stoi):
    """Average negative log-likelihood per bigram over the names."""
    total_logp, seen = 0.0, 0
    for word in names:
        padded = [BOUNDARY, *word, BOUNDARY]
        for prev, nxt in zip(padded[:-1], padded[1:]):
            if prev in stoi and nxt in stoi:
                total_logp += np.log(probs[stoi[prev], stoi[nxt]])
                seen += 1
    return float(-(total_logp / seen))


def sample(probs, itos, n, seed=0):
    """Sample n names using numpy's default_rng(seed)."""
    rng = np.random.default_rng(seed)
    generated = []
    for _ in range(n):
        state, letters = 0, []
        while True:
            state = rng.choice(len(itos), p=probs[state])
            if not state:
                break
            letters.append(itos[state])
        generated.append("".join(letters))
    return generated


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
