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
    x -= x.max()
    ex = np.exp(x)
    return ex / np.sum(ex)


def greedy(logits):
    """Index of the largest logit."""
    return int(np.argmax(np.asarray(logits)))


def top_k_filter(logits, k):
    """Keep the k largest logits, set the others to -inf."""
    x = np.array(logits, dtype=float)
    if k is None or k >= len(x):
        return x
    threshold = np.sort(x)[-k]
    x[x < threshold] = -np.inf
    return x


def top_p_filter(logits, p):
    """Keep the smallest set of tokens whose probability mass reaches p (nucleus), set the others to -inf."""
    x = np.array(logits, dtype=float)
    idx = np.argsort(-x)
    sorted_probs = softmax(x[idx])
    cum = np.cumsum(sorted_probs)
    remove = cum > p
    remove[1:] = remove[:-1].copy()
    remove[0] = False
    x[idx[remove]] = -np.inf
    return x


def sample(logits, rng, temperature=1.0, k=None, p=None):
    """Apply top-k then top-p filtering, then sample one index from the tempered softmax."""
    x = np.array(logits, dtype=float)
    if k is not None:
        x = top_k_filter(x, k)
    if p is not None:
        x = top_p_filter(x, p)
    probs = softmax(x, temperature)
    return int(rng.choice(len(x), p=probs))


def main():
    steps = load_logits("logits.npy")
    rng = np.random.default_rng(0)
    print("greedy:", [int(greedy(row)) for row in steps])
    print("top-k:", [int(sample(row, rng, 0.8, k=5)) for row in steps])
    print("top-p:", [int(sample(row, rng, 1.0, p=0.9)) for row in steps])


if __name__ == "__main__":
    main()
