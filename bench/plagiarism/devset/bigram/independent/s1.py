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
    chars = sorted(set("".join(names)))
    stoi = {ch: i + 1 for i, ch in enumerate(chars)}
    stoi[BOUNDARY] = 0
    return stoi


def count_bigrams(names, stoi):
    """Return a |V| x |V| matrix of bigram counts, with the boundary before and after each name."""
    N = np.zeros((len(stoi), len(stoi)), dtype=np.int32)
    for w in names:
        chs = [BOUNDARY] + list(w) + [BOUNDARY]
        for ch1, ch2 in zip(chs, chs[1:]):
            N[stoi[ch1], stoi[ch2]] += 1
    return N


def to_probabilities(counts, alpha=1.0):
    """Add-alpha smoothing, then normalise each row into a distribution."""
    P = (counts + alpha).astype(np.float64)
    P /= P.sum(1, keepdims=True)
    return P


def nll(names, probs, stoi):
    """Average negative log-likelihood per bigram over the names."""
    log_likelihood = 0.0
    n = 0
    for w in names:
        chs = [BOUNDARY] + list(w) + [BOUNDARY]
        for ch1, ch2 in zip(chs, chs[1:]):
            if ch1 not in stoi or ch2 not in stoi:
                continue
            log_likelihood += np.log(probs[stoi[ch1], stoi[ch2]])
            n += 1
    return float(-log_likelihood / n)


def sample(probs, itos, n, seed=0):
    """Sample n names using numpy's default_rng(seed)."""
    g = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        ix = 0
        word = []
        while True:
            ix = g.choice(len(itos), p=probs[ix])
            if ix == 0:
                break
            word.append(itos[ix])
        out.append("".join(word))
    return out


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
