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
    avg = x.mean(axis=-1, keepdims=True)
    variance = x.var(axis=-1, keepdims=True)
    return (x - avg) / (variance + eps) ** 0.5


def causal_mask(T):
    """Boolean (T, T) matrix, True where position i may attend to position j."""
    return np.asarray(np.tril(np.ones((T, T))), dtype=bool)


def attention(q, k, v, mask):
    """Scaled dot-product attention for one head; q, k, v are (T, d)."""
    logits = np.matmul(q, k.T) * np.reciprocal(np.sqrt(k.shape[-1]))
    logits = np.where(mask, logits, float("-inf"))
    logits = np.exp(logits - logits.max(axis=-1, keepdims=True))
    probs = logits / logits.sum(axis=-1, keepdims=True)
    return np.matmul(probs, v)


def split_heads(x, n_heads):
    """(T, C) -> (n_heads, T, C // n_heads)."""
    length, width = x.shape
    per_head = width // n_heads
    return x.reshape(length, n_heads, per_head).swapaxes(0, 1)


def multi_head_attention(x, params, n_heads):
    """Pre-norm causal self-attention with a residual connection; returns (T, C)."""
    length, width = x.shape
    fused = np.matmul(layer_norm(x), params["w_qkv"]) + params["b_qkv"]
    query, key, value = fused[:, :width], fused[:, width:2 * width], fused[:, 2 * width:]
    query = split_heads(query, n_heads)
    key = split_heads(key, n_heads)
    value = split_heads(value, n_heads)
    allowed = causal_mask(length)
    stacked = np.stack([attention(query[i], key[i], value[i], allowed) for i in range(n_heads)])
    stacked = stacked.swapaxes(0, 1).reshape(length, width)
    return x + np.matmul(stacked, params["w_out"]) + params["b_out"]


def main():
    params = init_params(16)
    x = np.random.default_rng(1).normal(size=(8, 16))
    y = multi_head_attention(x, params, n_heads=4)
    print(y.shape, float(np.abs(y).mean()))


if __name__ == "__main__":
    main()
