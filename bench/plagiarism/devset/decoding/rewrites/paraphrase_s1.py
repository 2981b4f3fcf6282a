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
    scaled = np.divide(np.asarray(logits, dtype=np.float64), temperature)
    shifted = scaled - scaled.max()
    numer = np.exp(shifted)
    return numer / np.sum(numer)


def greedy(logits):
    """Index of the largest logit."""
    return int(np.asarray(logits).argmax())


def top_k_filter(logits, k):
    """Keep the k largest logits, set the others to -inf."""
    scores = np.asarray(logits, dtype=np.float64)
    if k is None or k >= scores.shape[-1]:
        return scores
    boundary = np.sort(scores)[scores.shape[-1] - k]
    return np.where(scores >= boundary, scores, -np.inf)


def top_p_filter(logits, p):
    """Keep the smallest set of tokens whose probability mass reaches p (nucleus), set the others to -inf."""
    scores = np.asarray(logits, dtype=np.float64)
    ranking = np.argsort(-scores, kind="stable")
    running_mass = np.cumsum(softmax(scores[ranking]))
    how_many = int(np.searchsorted(running_mass, p)) + 1
    chosen = ranking[:how_many]
    masked = np.full(scores.shape, -np.inf)
    masked[chosen] = scores[chosen]
    return masked


def sample(logits, rng, temperature=1.0, k=None, p=None):
    """Apply top-k then top-p filtering, then sample one index from the tempered softmax."""
    scores = logits
    if k is not None:
        scores = top_k_filter(scores, k)
    if p is not None:
        scores = top_p_filter(scores, p)
    distribution = softmax(scores, temperature)
    return int(rng.choice(distribution.shape[0], p=distribution))


def main():
    steps = load_logits("logits.npy")
    rng = np.random.default_rng(0)
    print("greedy:", [int(greedy(row)) for row in steps])
    print("top-k:", [int(sample(row, rng, 0.8, k=5)) for row in steps])
    print("top-p:", [int(sample(row, rng, 1.0, p=0.9)) for row in steps])


if __name__ == "__main__":
    main()
