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
    arr = np.asarray(x, dtype=float)
    return (arr - arr.mean(axis=-1, keepdims=True)) / np.sqrt(arr.var(axis=-1, keepdims=True) + eps)


def causal_mask(T):
    """Boolean (T, T) matrix, True where position i may attend to position j."""
    return np.logical_not(np.triu(np.ones((T, T), dtype=bool), 1))


def attention(q, k, v, mask):
    """Scaled dot-product attention for one head; q, k, v are (T, d)."""
    logits = np.einsum("ak,bk->ab", q, k) / np.sqrt(q.shape[-1])
    logits[~mask] = -1.0e9
    logits -= np.max(logits, axis=-1, keepdims=True)
    weights = np.exp(logits)
    weights /= np.sum(weights, axis=-1, keepdims=True)
    return np.einsum("ab,bk->ak", weights, v)


def split_heads(x, n_heads):
    """(T, C) -> (n_heads, T, C // n_heads)."""
    steps, width = x.shape
    assert width % n_heads == 0, "embedding width has to be a multiple of the head count"
    return np.swapaxes(x.reshape(steps, n_heads, -1), 0, 1)


def multi_head_attention(x, params, n_heads):
    """Pre-norm causal self-attention with a residual connection; returns (T, C)."""
    steps, width = x.shape
    fused = np.einsum("ij,jk->ik", layer_norm(x), params["w_qkv"]) + params["b_qkv"]
    per_head = [split_heads(block, n_heads) for block in np.split(fused, 3, axis=-1)]
    visible = causal_mask(steps)
    mixed = np.stack([attention(per_head[0][i], per_head[1][i], per_head[2][i], visible) for i in range(n_heads)], axis=1)
    flat = mixed.reshape(steps, width)
    return x + np.einsum("ij,jk->ik", flat, params["w_out"]) + params["b_out"]


def main():
    params = init_params(16)
    x = np.random.default_rng(1).normal(size=(8, 16))
    y = multi_head_attention(x, params, n_heads=4)
    print(y.shape, float(np.abs(y).mean()))


if __name__ == "__main__":
    main()
