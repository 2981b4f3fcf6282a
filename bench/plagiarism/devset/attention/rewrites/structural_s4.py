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
    x = np.asarray(x, dtype=np.float64)
    var = x.var(-1, keepdims=True)
    return (x - x.mean(-1, keepdims=True)) / np.sqrt(var + eps)


def causal_mask(T):
    """Boolean (T, T) matrix, True where position i may attend to position j."""
    upper = np.triu(np.ones((T, T), dtype=bool), k=1)
    return ~upper


def _linear(a, w, b):
    return np.einsum("tc,cd->td", a, w) + b


def attention(q, k, v, mask):
    """Scaled dot-product attention for one head; q, k, v are (T, d)."""
    scores = np.einsum("id,jd->ij", q, k) / np.sqrt(q.shape[-1])
    scores[~mask] = -1e9
    probs = np.exp(scores - scores.max(-1, keepdims=True))
    return np.einsum("ij,jd->id", probs / probs.sum(-1, keepdims=True), v)


def split_heads(x, n_heads):
    """(T, C) -> (n_heads, T, C // n_heads)."""
    T, C = x.shape
    if C % n_heads != 0:
        raise AssertionError("n_heads must divide the embedding size")
    return np.moveaxis(x.reshape(T, n_heads, -1), 1, 0)


def multi_head_attention(x, params, n_heads):
    """Pre-norm causal self-attention with a residual connection; returns (T, C)."""
    T, C = x.shape
    heads = []
    for part in np.split(_linear(layer_norm(x), params["w_qkv"], params["b_qkv"]), 3, axis=1):
        heads.append(split_heads(part, n_heads))
    q, k, v = heads
    mask = causal_mask(T)
    attended = np.stack([attention(q[h], k[h], v[h], mask) for h in range(n_heads)], axis=1)
    return x + _linear(attended.reshape(T, C), params["w_out"], params["b_out"])


def main():
    params = init_params(16)
    x = np.random.default_rng(1).normal(size=(8, 16))
    y = multi_head_attention(x, params, n_heads=4)
    print(y.shape, float(np.abs(y).mean()))


if __name__ == "__main__":
    main()
