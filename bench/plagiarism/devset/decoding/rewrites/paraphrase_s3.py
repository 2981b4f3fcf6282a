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
    if not temperature > 0:
        raise ValueError("temperature must be positive")
    tempered = [score / temperature for score in logits]
    top = max(tempered)
    unnorm = [np.exp(score - top) for score in tempered]
    norm = sum(unnorm)
    return np.array([u / norm for u in unnorm])


def greedy(logits):
    """Index of the largest logit."""
    winner, best = 0, -np.inf
    for position, score in enumerate(logits):
        if score > best:
            winner, best = position, score
    return winner


def top_k_filter(logits, k):
    """Keep the k largest logits, set the others to -inf."""
    if not k:
        return np.array(logits, dtype=float)
    survivors = set(sorted(range(len(logits)), key=logits.__getitem__, reverse=True)[:k])
    return np.array([score if pos in survivors else -np.inf for pos, score in enumerate(logits)])


def top_p_filter(logits, p):
    """Keep the smallest set of tokens whose probability mass reaches p (nucleus), set the others to -inf."""
    dist = softmax(logits)
    by_prob = sorted(range(len(logits)), key=dist.__getitem__, reverse=True)
    selected, acc = [], 0.0
    for pos in by_prob:
        selected.append(pos)
        acc += dist[pos]
        if acc >= p:
            break
    masked = np.full(len(logits), -np.inf)
    masked[selected] = np.asarray(logits, dtype=float)[selected]
    return masked


def sample(logits, rng, temperature=1.0, k=None, p=None):
    """Apply top-k then top-p filtering, then sample one index from the tempered softmax."""
    scores = np.array(logits, dtype=float)
    if k:
        scores = top_k_filter(scores, k)
    if p:
        scores = top_p_filter(scores, p)
    dist = softmax(scores, temperature)
    u = rng.random()
    acc = 0.0
    for pos, mass in enumerate(dist):
        acc += mass
        if u < acc:
            return pos
    return len(dist) - 1


def main():
    steps = load_logits("logits.npy")
    rng = np.random.default_rng(0)
    print("greedy:", [int(greedy(row)) for row in steps])
    print("top-k:", [int(sample(row, rng, 0.8, k=5)) for row in steps])
    print("top-p:", [int(sample(row, rng, 1.0, p=0.9)) for row in steps])


if __name__ == "__main__":
    main()
