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
    centered = x - np.mean(x, axis=1)[:, None]
    std = np.sqrt(np.mean(centered ** 2, axis=1) + eps)
    return centered / std[:, None]


def causal_mask(T):
    """Boolean (T, T) matrix, True where position i may attend to position j."""
    rows = np.arange(T)[:, None]
    cols = np.arange(T)[None, :]
    return cols <= rows


def attention(q, k, v, mask):
    """Scaled dot-product attention for one head; q, k, v are (T, d)."""
    T = q.shape[0]
    out = np.zeros_like(v, dtype=float)
    scale = q.shape[1] ** -0.5
    for i in range(T):
        allowed = np.nonzero(mask[i])[0]
        logits = np.array([np.dot(q[i], k[j]) * scale for j in allowed])
        logits -= logits.max()
        w = np.exp(logits)
        w /= w.sum()
        out[i] = (w[:, None] * v[allowed]).sum(axis=0)
    return out


def split_heads(x, n_heads):
    """(T, C) -> (n_heads, T, C // n_heads)."""
    size = x.shape[1] // n_heads
    return np.stack([x[:, h * size:(h + 1) * size] for h in range(n_heads)])


def multi_head_attention(x, params, n_heads):
    """Pre-norm causal self-attention with a residual connection; returns (T, C)."""
    normed = layer_norm(x)
    projected = normed.dot(params["w_qkv"]) + params["b_qkv"]
    width = x.shape[1]
    queries = split_heads(projected[:, :width], n_heads)
    keys = split_heads(projected[:, width:2 * width], n_heads)
    values = split_heads(projected[:, 2 * width:], n_heads)
    mask = causal_mask(x.shape[0])
    merged = np.hstack([attention(queries[h], keys[h], values[h], mask) for h in range(n_heads)])
    return x + merged.dot(params["w_out"]) + params["b_out"]


def main():
    params = init_params(16)
    x = np.random.default_rng(1).normal(size=(8, 16))
    y = multi_head_attention(x, params, n_heads=4)
    print(y.shape, float(np.abs(y).mean()))


if __name__ == "__main__":
    main()
