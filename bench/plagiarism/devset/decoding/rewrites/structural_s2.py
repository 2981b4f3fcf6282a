"""Assignment 3: decoding strategies for a language model.

`logits` is a 1-D numpy array of unnormalised scores over the vocabulary.
All randomness goes through the numpy Generator passed in as `rng`.
"""
import numpy as np


def load_logits(path):
    """Load a saved array of logits (one row per step)."""
    return np.load(path)


def softmax(logits, temperature=1.0):
    """Numerically stable softmax of logits / temperature."""
    x = np.array(logits, dtype=float) / temperature
    ex = np.exp(x - x.max())
    return ex / np.sum(ex)


def greedy(logits):
    """Index of the largest logit."""
    return int(np.argmax(np.asarray(logits)))


def top_k_filter(logits, k):
    """Keep the k largest logits, set the others to -inf."""
    x = np.array(logits, dtype=float)
    if k is not None and k < len(x):
        below = x < np.sort(x)[-k]
        x[below] = -np.inf
    return x


def _shifted_remove(cum, p):
    return np.array([False] + [c > p for c in cum[:-1]], dtype=bool)


def top_p_filter(logits, p):
    """Keep the smallest set of tokens whose probability mass reaches p (nucleus), set the others to -inf."""
    x = np.array(logits, dtype=float)
    idx = np.argsort(-x)
    cum = np.cumsum(softmax(x[idx]))
    x[idx[_shifted_remove(cum, p)]] = -np.inf
    return x


def sample(logits, rng, temperature=1.0, k=None, p=None):
    """Apply top-k then top-p filtering, then sample one index from the tempered softmax."""
    x = np.array(logits, dtype=float)
    x = x if k is None else top_k_filter(x, k)
    x = x if p is None else top_p_filter(x, p)
    return int(rng.choice(len(x), p=softmax(x, temperature)))


def main():
    steps = load_logits("logits.npy")
    rng = np.random.default_rng(0)
    print("greedy:", [int(greedy(row)) for row in steps])
    print("top-k:", [int(sample(row, rng, 0.8, k=5)) for row in steps])
    print("top-p:", [int(sample(row, rng, 1.0, p=0.9)) for row in steps])


if __name__ == "__main__":
    main()
