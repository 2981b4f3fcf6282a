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


def _padded(name):
    return ['.'] + list(name) + ['.']


def build_vocab(names):
    """Map the boundary marker to 0 and every character to an integer id."""
    stoi = {}
    for i, s in enumerate(sorted(set(''.join(names)))):
        stoi[s] = i + 1
    stoi['.'] = 0
    return stoi


def count_bigrams(names, stoi):
    """Return a |V| x |V| matrix of bigram counts, with the boundary before and after each name."""
    N = np.zeros((len(stoi), len(stoi)), dtype=np.int64)
    for name in names:
        seq = _padded(name)
        for j in range(len(seq) - 1):
            N[stoi[seq[j]], stoi[seq[j + 1]]] += 1
    return N


def to_probabilities(counts, alpha=1.0):
    """Add-alpha smoothing, then normalise each row into a distribution."""
    P = counts.astype(float) + alpha
    return P / P.sum(axis=1, keepdims=True)


def nll(names, probs, stoi):
    """Average negative log-likelihood per bigram over the names."""
    total, count = 0.0, 0
    for seq in map(_padded, names):
        for a, b in zip(seq, seq[1:]):
            count += 1
            total -= math.log(probs[stoi[a], stoi[b]])
    return total / count


def _sample_one(rng, probs, itos):
    chars = []
    idx = 0
    while True:
        idx = int(rng.choice(probs.shape[1], p=probs[idx]))
        if idx == 0:
            return ''.join(chars)
        chars.append(itos[idx])


def sample(probs, itos, n, seed=0):
    """Sample n names using numpy's default_rng(seed)."""
    rng = np.random.default_rng(seed)
    results = [_sample_one(rng, probs, itos) for i in range(n)]
    return results


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
