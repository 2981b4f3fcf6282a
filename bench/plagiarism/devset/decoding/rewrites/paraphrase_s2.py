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
    scores = np.true_divide(np.array(logits, dtype=float), temperature)
    scores -= np.amax(scores)
    weights = np.exp(scores)
    return weights / weights.sum()


def greedy(logits):
    """Index of the largest logit."""
    return int(np.array(logits).argmax())


def top_k_filter(logits, k):
    """Keep the k largest logits, set the others to -inf."""
    scores = np.array(logits, dtype=float)
    if k is None or k >= scores.size:
        return scores
    cutoff = np.sort(scores)[::-1][k - 1]
    np.putmask(scores, scores < cutoff, -np.inf)
    return scores


def top_p_filter(logits, p):
    """Keep the smallest set of tokens whose probability mass reaches p (nucleus), set the others to -inf."""
    scores = np.array(logits, dtype=float)
    ranking = np.argsort(-scores)
    ranked_probs = softmax(scores[ranking])
    running = ranked_probs.cumsum()
    past_p = np.roll(running > p, 1)
    past_p[0] = False
    scores[ranking[past_p]] = -np.inf
    return scores


def sample(logits, rng, temperature=1.0, k=None, p=None):
    """Apply top-k then top-p filtering, then sample one index from the tempered softmax."""
    scores = np.array(logits, dtype=float)
    if k is not None:
        scores = top_k_filter(scores, k)
    if p is not None:
        scores = top_p_filter(scores, p)
    dist = softmax(scores, temperature)
    return int(rng.choice(scores.shape[0], p=dist))


def main():
    steps = load_logits("logits.npy")
    rng = np.random.default_rng(0)
    print("greedy:", [int(greedy(row)) for row in steps])
    print("top-k:", [int(sample(row, rng, 0.8, k=5)) for row in steps])
    print("top-p:", [int(sample(row, rng, 1.0, p=0.9)) for row in steps])


if __name__ == "__main__":
    main()
