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
    result = np.zeros_like(logits)
    finite = np.isfinite(logits)
    values = logits[finite]
    exps = np.exp((values - values.max()) / temperature)
    result[finite] = exps / exps.sum()
    return result


def greedy(logits):
    """Index of the largest logit."""
    return int(np.asarray(logits).argmax())


def top_k_filter(logits, k):
    """Keep the k largest logits, set the others to -inf."""
    logits = np.asarray(logits, dtype=np.float64)
    k = min(int(k), logits.size)
    mask = np.ones(logits.size, dtype=bool)
    mask[np.argpartition(logits, -k)[-k:]] = False
    return np.where(mask, -np.inf, logits)


def _dropped_tokens(probs, p):
    order = np.argsort(probs, kind="stable")[::-1]
    dropped = []
    mass_before = 0.0
    for token in order:
        if mass_before >= p:
            dropped.append(token)
        mass_before += probs[token]
    return np.array(dropped, dtype=int)


def top_p_filter(logits, p):
    """Keep the smallest set of tokens whose probability mass reaches p (nucleus), set the others to -inf."""
    logits = np.asarray(logits, dtype=np.float64)
    filtered = logits.copy()
    filtered[_dropped_tokens(softmax(logits), p)] = -np.inf
    return filtered


def sample(logits, rng, temperature=1.0, k=None, p=None):
    """Apply top-k then top-p filtering, then sample one index from the tempered softmax."""
    if k is not None:
        logits = top_k_filter(logits, k)
    if p is not None:
        logits = top_p_filter(logits, p)
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
