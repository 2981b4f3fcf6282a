"""Assignment 4: causal multi-head self-attention in numpy.

x has shape (T, C). params holds "w_qkv" (C, 3C), "b_qkv" (3C,), "w_out" (C, C), "b_out" (C,).
"""
import numpy as np


def init_params(n_embd, seed=0):
    """Random parameters with the shapes the functions below expect."""
    rng = np.random.default_rng(seed)
    scale = 1.0 / np.sqrt(n_embd)
    return {
        "w_qkv": rng.normal(0.0, scale, (n_embd, 3 * n_embd)),
        "b_qkv": np.zeros(3 * n_embd),
        "w_out": rng.normal(0.0, scale, (n_embd, n_embd)),
        "b_out": np.zeros(n_embd),
    }


def layer_norm(x, eps=1e-5):
    """Normalise each row of x to zero mean and unit variance (no learned scale)."""
    centre = np.mean(x, axis=-1, keepdims=True)
    spread = np.var(x, axis=-1, keepdims=True)
    return (x - centre) * (spread + eps) ** -0.5


def causal_mask(T):
    """Boolean (T, T) matrix, True where position i may attend to position j."""
    return np.tri(T, T, dtype=bool)


def attention(q, k, v, mask):
    """Scaled dot-product attention for one head; q, k, v are (T, d)."""
    width = q.shape[-1]
    logits = np.matmul(q, k.T) / width ** 0.5
    logits = np.where(mask, logits, -np.inf)
    logits -= np.max(logits, axis=-1, keepdims=True)
    weights = np.exp(logits)
    weights /= np.sum(weights, axis=-1, keepdims=True)
    return np.matmul(weights, v)


def split_heads(x, n_heads):
    """(T, C) -> (n_heads, T, C // n_heads)."""
    steps, channels = x.shape
    return np.transpose(np.reshape(x, (steps, n_heads, channels // n_heads)), (1, 0, 2))


def multi_head_attention(x, params, n_heads):
    """Pre-norm causal self-attention with a residual connection; returns (T, C)."""
    steps, channels = x.shape
    normed = layer_norm(x)
    packed = np.matmul(normed, params["w_qkv"]) + params["b_qkv"]
    queries, keys, values = (split_heads(chunk, n_heads) for chunk in np.split(packed, 3, axis=-1))
    visible = causal_mask(steps)
    outputs = [attention(queries[head], keys[head], values[head], visible) for head in range(n_heads)]
    joined = np.concatenate(outputs, axis=-1)
    return x + (np.matmul(joined, params["w_out"]) + params["b_out"])


def main():
    params = init_params(16)
    x = np.random.default_rng(1).normal(size=(8, 16))
    y = multi_head_attention(x, params, n_heads=4)
    print(y.shape, float(np.abs(y).mean()))


if __name__ == "__main__":
    main()
