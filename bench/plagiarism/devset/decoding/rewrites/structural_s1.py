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
    z = np.asarray(logits, dtype=np.float64) / temperature
    e = np.exp(z - np.max(z))
    return e / e.sum()


def greedy(logits):
    """Index of the largest logit."""
    return int(np.argmax(logits))


def top_k_filter(logits, k):
    """Keep the k largest logits, set the others to -inf."""
    logits = np.asarray(logits, dtype=np.float64)
    if k is not None and k < logits.shape[-1]:
        logits = np.where(logits < np.sort(logits)[-k], -np.inf, logits)
    return logits


def _nucleus_size(sorted_logits, p):
    cumulative = np.cumsum(softmax(sorted_logits))
    return np.searchsorted(cumulative, p) + 1


def top_p_filter(logits, p):
    """Keep the smallest set of tokens whose probability mass reaches p (nucleus), set the others to -inf."""
    logits = np.asarray(logits, dtype=np.float64)
    order = np.argsort(logits)[::-1]
    cutoff = _nucleus_size(logits[order], p)
    out = np.full_like(logits, -np.inf)
    keep = order[:cutoff]
    out[keep] = logits[keep]
    return out


def sample(logits, rng, temperature=1.0, k=None, p=None):
    """Apply top-k then top-p filtering, then sample one index from the tempered softmax."""
    for value, flt in ((k, top_k_filter), (p, top_p_filter)):
        if value is not None:
            logits = flt(logits, value)
    probs = softmax(logits, temperature)
    return int(rng.choice(len(probs), p=probs))


def main():
    steps = load_logits("logits.npy")
    rng = np.random.default_rng(0)
    print("greedy:", [int(greedy(row)) for row in steps])
    print("top-k:", [int(sample(row, rng, 0.8, k=5)) for row in steps])
    print("top-p:", [int(sample(row, rng, 1.0, p=0.9)) for row in steps])


if __name__ == "__main__":
    main()
