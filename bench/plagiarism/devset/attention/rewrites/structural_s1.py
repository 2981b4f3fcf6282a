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
    return (x - x.mean(axis=-1, keepdims=True)) / np.sqrt(x.var(axis=-1, keepdims=True) + eps)


def causal_mask(T):
    """Boolean (T, T) matrix, True where position i may attend to position j."""
    return np.tril(np.ones((T, T), dtype=bool))


def _softmax_rows(att):
    att = np.exp(att - att.max(axis=-1, keepdims=True))
    return att / att.sum(axis=-1, keepdims=True)


def attention(q, k, v, mask):
    """Scaled dot-product attention for one head; q, k, v are (T, d)."""
    att = np.where(mask, q @ k.T / np.sqrt(q.shape[-1]), -np.inf)
    return _softmax_rows(att) @ v


def split_heads(x, n_heads):
    """(T, C) -> (n_heads, T, C // n_heads)."""
    T, C = x.shape
    return x.reshape(T, n_heads, C // n_heads).transpose(1, 0, 2)


def multi_head_attention(x, params, n_heads):
    """Pre-norm causal self-attention with a residual connection; returns (T, C)."""
    T, C = x.shape
    qkv = layer_norm(x) @ params["w_qkv"] + params["b_qkv"]
    q, k, v = (split_heads(part, n_heads) for part in np.split(qkv, 3, axis=-1))
    mask = causal_mask(T)
    heads = []
    i = 0
    while i < n_heads:
        heads.append(attention(q[i], k[i], v[i], mask))
        i += 1
    return x + np.concatenate(heads, axis=-1) @ params["w_out"] + params["b_out"]


def main():
    params = init_params(16)
    x = np.random.default_rng(1).normal(size=(8, 16))
    y = multi_head_attention(x, params, n_heads=4)
    print(y.shape, float(np.abs(y).mean()))


if __name__ == "__main__":
    main()
