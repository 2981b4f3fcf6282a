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
    sigma2 = np.var(x, axis=-1, keepdims=True)
    centered = x - np.mean(x, axis=-1, keepdims=True)
    return centered / np.sqrt(sigma2 + eps)


def causal_mask(T):
    """Boolean (T, T) matrix, True where position i may attend to position j."""
    ones = np.ones((T, T))
    return np.tril(ones).astype(bool)


def _scaled_scores(q, k):
    return (q @ k.T) * (1.0 / np.sqrt(k.shape[-1]))


def attention(q, k, v, mask):
    """Scaled dot-product attention for one head; q, k, v are (T, d)."""
    scores = np.where(mask, _scaled_scores(q, k), -np.inf)
    scores = np.exp(scores - np.max(scores, axis=-1, keepdims=True))
    return (scores / np.sum(scores, axis=-1, keepdims=True)) @ v


def split_heads(x, n_heads):
    """(T, C) -> (n_heads, T, C // n_heads)."""
    T, C = x.shape
    return x.reshape(T, n_heads, C // n_heads).transpose(1, 0, 2)


def multi_head_attention(x, params, n_heads):
    """Pre-norm causal self-attention with a residual connection; returns (T, C)."""
    T, C = x.shape
    mask = causal_mask(T)
    qkv = layer_norm(x) @ params["w_qkv"] + params["b_qkv"]
    q, k, v = [split_heads(qkv[:, i * C:(i + 1) * C], n_heads) for i in range(3)]
    out = []
    for h in range(n_heads):
        out.append(attention(q[h], k[h], v[h], mask))
    out = np.stack(out).transpose(1, 0, 2).reshape(T, C)
    return x + out @ params["w_out"] + params["b_out"]


def main():
    params = init_params(16)
    x = np.random.default_rng(1).normal(size=(8, 16))
    y = multi_head_attention(x, params, n_heads=4)
    print(y.shape, float(np.abs(y).mean()))


if __name__ == "__main__":
    main()
