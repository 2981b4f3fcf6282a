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
    alphabet = sorted(set().union(*names))
    lookup = {char: pos for pos, char in enumerate(alphabet, start=1)}
    lookup["."] = 0
    return lookup


def count_bigrams(names, stoi):
    """Return a |V| x |V| matrix of bigram counts, with the boundary before and after each name."""
    from itertools import pairwise
    dim = len(stoi)
    freq = np.zeros(shape=(dim, dim), dtype=np.int64)
    for word in names:
        chain = "." + word + "."
        for left, right in pairwise(chain):
            freq[stoi[left], stoi[right]] += 1
    return freq


def to_probabilities(counts, alpha=1.0):
    """Add-alpha smoothing, then normalise each row into a distribution."""
    weights = counts.astype(np.float64) + alpha
    weights = np.divide(weights, weights.sum(axis=1, keepdims=True))
    return weights


def nll(names, probs, stoi):
    """Average negative log-likelihood per bigram over the names."""
    from itertools import pairwise
    running = 0.0
    pairs_seen = 0
    for word in names:
        chain = "." + word + "."
        for left, right in pairwise(chain):
            running -= math.log(probs[stoi[left], stoi[right]])
            pairs_seen += 1
    return running / pairs_seen


def sample(probs, itos, n, seed=0):
    """Sample n names using numpy's default_rng(seed)."""
    gen = np.random.default_rng(seed)
    width = probs.shape[1]
    output = []
    for _ in range(n):
        cur, pieces = 0, []
        while (cur := int(gen.choice(width, p=probs[cur]))) != 0:
            pieces.append(itos[cur])
        output.append("".join(pieces))
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
