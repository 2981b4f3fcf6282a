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
    scaled = [value / temperature for value in logits]
    peak = max(scaled)
    weights = [np.exp(value - peak) for value in scaled]
    total = sum(weights)
    return np.array([w / total for w in weights])


def greedy(logits):
    """Index of the largest logit."""
    best_index, best_value = 0, -np.inf
    for index, value in enumerate(logits):
        if value > best_value:
            best_index, best_value = index, value
    return best_index


def top_k_filter(logits, k):
    """Keep the k largest logits, set the others to -inf."""
    if not k:
        return np.array(logits, dtype=float)
    keep = set(sorted(range(len(logits)), key=lambda i: logits[i], reverse=True)[:k])
    return np.array([value if i in keep else -np.inf for i, value in enumerate(logits)])


def top_p_filter(logits, p):
    """Keep the smallest set of tokens whose probability mass reaches p (nucleus), set the others to -inf."""
    probs = softmax(logits)
    ranked = sorted(range(len(logits)), key=lambda i: probs[i], reverse=True)
    kept, mass = [], 0.0
    for i in ranked:
        kept.append(i)
        mass += probs[i]
        if mass >= p:
            break
    result = np.full(len(logits), -np.inf)
    for i in kept:
        result[i] = logits[i]
    return result


def sample(logits, rng, temperature=1.0, k=None, p=None):
    """Apply top-k then top-p filtering, then sample one index from the tempered softmax."""
    filtered = np.array(logits, dtype=float)
    if k:
        filtered = top_k_filter(filtered, k)
    if p:
        filtered = top_p_filter(filtered, p)
    probs = softmax(filtered, temperature)
    draw = rng.random()
    running = 0.0
    for index, prob in enumerate(probs):
        running += prob
        if draw < running:
            return index
    return len(probs) - 1


def main():
    steps = load_logits("logits.npy")
    rng = np.random.default_rng(0)
    print("greedy:", [int(greedy(row)) for row in steps])
    print("top-k:", [int(sample(row, rng, 0.8, k=5)) for row in steps])
    print("top-p:", [int(sample(row, rng, 1.0, p=0.9)) for row in steps])


if __name__ == "__main__":
    main()
