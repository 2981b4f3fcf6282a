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
    centered = x - x.mean(axis=1, keepdims=True)
    return centered / np.sqrt((centered ** 2).mean(axis=1, keepdims=True) + eps)


def causal_mask(T):
    """Boolean (T, T) matrix, True where position i may attend to position j."""
    return np.arange(T)[None, :] <= np.arange(T)[:, None]


def attention(q, k, v, mask):
    """Scaled dot-product attention for one head; q, k, v are (T, d)."""
    out = np.zeros_like(v, dtype=float)
    scale = q.shape[1] ** -0.5
    i = 0
    while i < q.shape[0]:
        allowed = np.nonzero(mask[i])[0]
        logits = k[allowed] @ q[i] * scale
        w = np.exp(logits - logits.max())
        out[i] = (w / w.sum()) @ v[allowed]
        i += 1
    return out


def split_heads(x, n_heads):
    """(T, C) -> (n_heads, T, C // n_heads)."""
    size = x.shape[1] // n_heads
    heads = []
    for h in range(n_heads):
        heads.append(x[:, h * size:(h + 1) * size])
    return np.stack(heads)


def multi_head_attention(x, params, n_heads):
    """Pre-norm causal self-attention with a residual connection; returns (T, C)."""
    width = x.shape[1]
    projected = layer_norm(x).dot(params["w_qkv"]) + params["b_qkv"]
    parts = [split_heads(projected[:, i * width:(i + 1) * width], n_heads) for i in range(3)]
    mask = causal_mask(x.shape[0])
    merged = np.hstack([attention(parts[0][h], parts[1][h], parts[2][h], mask) for h in range(n_heads)])
    return x + merged.dot(params["w_out"]) + params["b_out"]


def main():
    params = init_params(16)
    x = np.random.default_rng(1).normal(size=(8, 16))
    y = multi_head_attention(x, params, n_heads=4)
    print(y.shape, float(np.abs(y).mean()))


if __name__ == "__main__":
    main()
