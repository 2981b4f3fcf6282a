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
    logits = np.asarray(logits, dtype=np.float64)
    finite = np.isfinite(logits)
    result = np.zeros_like(logits)
    shifted = (logits[finite] - logits[finite].max()) / temperature
    result[finite] = np.exp(shifted) / np.exp(shifted).sum()
    return result


def greedy(logits):
    """Index of the largest logit."""
    return int(np.asarray(logits).argmax())


def top_k_filter(logits, k):
    """Keep the k largest logits, set the others to -inf."""
    logits = np.asarray(logits, dtype=np.float64)
    k = min(int(k), logits.size)
    keep = np.argpartition(logits, -k)[-k:]
    mask = np.ones(logits.size, dtype=bool)
    mask[keep] = False
    return np.where(mask, -np.inf, logits)


def top_p_filter(logits, p):
    """Keep the smallest set of tokens whose probability mass reaches p (nucleus), set the others to -inf."""
    logits = np.asarray(logits, dtype=np.float64)
    probs = softmax(logits)
    order = np.argsort(probs, kind="stable")[::-1]
    mass_before = np.concatenate([[0.0], np.cumsum(probs[order])[:-1]])
    dropped = order[mass_before >= p]
    filtered = logits.copy()
    filtered[dropped] = -np.inf
    return filtered


def sample(logits, rng, temperature=1.0, k=None, p=None):
    """Apply top-k then top-p filtering, then sample one index from the tempered softmax."""
    steps = []
    if k is not None:
        steps.append(lambda x: top_k_filter(x, k))
    if p is not None:
        steps.append(lambda x: top_p_filter(x, p))
    for step in steps:
        logits = step(logits)
    distribution = softmax(logits, temperature)
    return int(rng.choice(distribution.size, p=distribution))


def main():
    steps = load_logits("logits.npy")
    rng = np.random.default_rng(0)
    print("greedy:", [int(greedy(row)) for row in steps])
    print("top-k:", [int(sample(row, rng, 0.8, k=5)) for row in steps])
    print("top-p:", [int(sample(row, rng, 1.0, p=0.9)) for row in steps])


if __name__ == "__main__":
    main()
