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
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps)


def causal_mask(T):
    """Boolean (T, T) matrix, True where position i may attend to position j."""
    return np.tril(np.ones((T, T), dtype=bool))


def attention(q, k, v, mask):
    """Scaled dot-product attention for one head; q, k, v are (T, d)."""
    d = q.shape[-1]
    att = q @ k.T / np.sqrt(d)
    att = np.where(mask, att, -np.inf)
    att = att - att.max(axis=-1, keepdims=True)
    att = np.exp(att)
    att = att / att.sum(axis=-1, keepdims=True)
    return att @ v


def split_heads(x, n_heads):
    """(T, C) -> (n_heads, T, C // n_heads)."""
    T, C = x.shape
    return x.reshape(T, n_heads, C // n_heads).transpose(1, 0, 2)


def multi_head_attention(x, params, n_heads):
    """Pre-norm causal self-attention with a residual connection; returns (T, C)."""
    T, C = x.shape
    h = layer_norm(x)
    qkv = h @ params["w_qkv"] + params["b_qkv"]
    q, k, v = np.split(qkv, 3, axis=-1)
    q, k, v = split_heads(q, n_heads), split_heads(k, n_heads), split_heads(v, n_heads)
    mask = causal_mask(T)
    heads = [attention(q[i], k[i], v[i], mask) for i in range(n_heads)]
    y = np.concatenate(heads, axis=-1)
    y = y @ params["w_out"] + params["b_out"]
    return x + y


def main():
    params = init_params(16)
    x = np.random.default_rng(1).normal(size=(8, 16))
    y = multi_head_attention(x, params, n_heads=4)
    print(y.shape, float(np.abs(y).mean()))


if __name__ == "__main__":
    main()
