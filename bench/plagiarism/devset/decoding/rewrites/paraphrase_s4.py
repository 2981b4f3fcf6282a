"""Assignment 3: decoding strategies for a language model.

`logits` is a 1-D numpy array of unnormalised scores over the vocabulary.
All randomness goes through the numpy Generator passed in as `rng`.
"""
from functools import partial

import numpy as np


def load_logits(path):
    """Load a saved array of logits (one row per step)."""
    return np.load(path)


def softmax(logits, temperature=1.0):
    """Numerically stable softmax of logits / temperature."""
    arr = np.asarray(logits, dtype=np.float64)
    ok = np.isfinite(arr)
    out = np.zeros_like(arr)
    centred = np.divide(arr[ok] - np.max(arr[ok]), temperature)
    out[ok] = np.exp(centred) / np.sum(np.exp(centred))
    return out


def greedy(logits):
    """Index of the largest logit."""
    return int(np.argmax(logits))


def top_k_filter(logits, k):
    """Keep the k largest logits, set the others to -inf."""
    arr = np.asarray(logits, dtype=np.float64)
    count = min(int(k), arr.size)
    winners = np.argpartition(arr, -count)[-count:]
    allowed = np.zeros(arr.size, dtype=bool)
    allowed[winners] = True
    return np.where(allowed, arr, -np.inf)


def top_p_filter(logits, p):
    """Keep the smallest set of tokens whose probability mass reaches p (nucleus), set the others to -inf."""
    arr = np.asarray(logits, dtype=np.float64)
    dist = softmax(arr)
    ranking = np.flip(np.argsort(dist, kind="stable"))
    prior_mass = np.r_[0.0, np.cumsum(dist[ranking])[:-1]]
    cut = ranking[prior_mass >= p]
    out = np.array(arr)
    out[cut] = -np.inf
    return out


def sample(logits, rng, temperature=1.0, k=None, p=None):
    """Apply top-k then top-p filtering, then sample one index from the tempered softmax."""
    chain = []
    if k is not None:
        chain.append(partial(top_k_filter, k=k))
    if p is not None:
        chain.append(partial(top_p_filter, p=p))
    scores = logits
    for stage in chain:
        scores = stage(scores)
    probs = softmax(scores, temperature)
    return int(rng.choice(probs.shape[0], p=probs))


def main():
    steps = load_logits("logits.npy")
    rng = np.random.default_rng(0)
    print("greedy:", [int(greedy(row)) for row in steps])
    print("top-k:", [int(sample(row, rng, 0.8, k=5)) for row in steps])
    print("top-p:", [int(sample(row, rng, 1.0, p=0.9)) for row in steps])


if __name__ == "__main__":
    main()
