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
    if temperature <= 0:
        raise ValueError("temperature must be positive")
    peak = max(value / temperature for value in logits)
    weights = []
    i = 0
    while i < len(logits):
        weights.append(np.exp(logits[i] / temperature - peak))
        i += 1
    total = sum(weights)
    return np.array(weights) / total


def greedy(logits):
    """Index of the largest logit."""
    return max(range(len(logits)), key=lambda index: (logits[index], -index))


def top_k_filter(logits, k):
    """Keep the k largest logits, set the others to -inf."""
    result = np.array(logits, dtype=float)
    if k:
        ranked = sorted(range(len(logits)), key=lambda i: logits[i], reverse=True)
        for i in ranked[k:]:
            result[i] = -np.inf
    return result


def top_p_filter(logits, p):
    """Keep the smallest set of tokens whose probability mass reaches p (nucleus), set the others to -inf."""
    probs = softmax(logits)
    ranked = sorted(range(len(logits)), key=lambda i: probs[i], reverse=True)
    result = np.full(len(logits), -np.inf)
    mass = 0.0
    position = 0
    while position < len(ranked) and (position == 0 or mass < p):
        i = ranked[position]
        result[i] = logits[i]
        mass += probs[i]
        position += 1
    return result


def sample(logits, rng, temperature=1.0, k=None, p=None):
    """Apply top-k then top-p filtering, then sample one index from the tempered softmax."""
    filtered = np.array(logits, dtype=float)
    filtered = top_k_filter(filtered, k) if k else filtered
    filtered = top_p_filter(filtered, p) if p else filtered
    cumulative = np.cumsum(softmax(filtered, temperature))
    draw = rng.random()
    hits = [index for index, edge in enumerate(cumulative) if draw < edge]
    return hits[0] if hits else len(cumulative) - 1


def main():
    steps = load_logits("logits.npy")
    rng = np.random.default_rng(0)
    print("greedy:", [int(greedy(row)) for row in steps])
    print("top-k:", [int(sample(row, rng, 0.8, k=5)) for row in steps])
    print("top-p:", [int(sample(row, rng, 1.0, p=0.9)) for row in steps])


if __name__ == "__main__":
    main()
