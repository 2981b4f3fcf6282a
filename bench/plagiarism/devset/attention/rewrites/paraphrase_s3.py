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
    shifted = x - x.mean(axis=1).reshape(-1, 1)
    deviation = np.sqrt((shifted * shifted).mean(axis=1) + eps)
    return shifted / deviation.reshape(-1, 1)


def causal_mask(T):
    """Boolean (T, T) matrix, True where position i may attend to position j."""
    idx = np.arange(T)
    return idx.reshape(1, -1) <= idx.reshape(-1, 1)


def attention(q, k, v, mask):
    """Scaled dot-product attention for one head; q, k, v are (T, d)."""
    result = np.zeros(v.shape)
    factor = 1.0 / np.sqrt(q.shape[1])
    for row in range(q.shape[0]):
        visible = np.flatnonzero(mask[row])
        energies = np.array([factor * float(q[row] @ k[col]) for col in visible])
        energies = energies - energies.max()
        probs = np.exp(energies)
        probs = probs / probs.sum()
        result[row] = np.sum(probs.reshape(-1, 1) * v[visible], axis=0)
    return result


def split_heads(x, n_heads):
    """(T, C) -> (n_heads, T, C // n_heads)."""
    chunk = x.shape[1] // n_heads
    return np.array([x[:, start:start + chunk] for start in range(0, chunk * n_heads, chunk)])


def multi_head_attention(x, params, n_heads):
    """Pre-norm causal self-attention with a residual connection; returns (T, C)."""
    width = x.shape[1]
    proj = np.dot(layer_norm(x), params["w_qkv"]) + params["b_qkv"]
    qs = split_heads(proj[:, 0:width], n_heads)
    ks = split_heads(proj[:, width:2 * width], n_heads)
    vs = split_heads(proj[:, 2 * width:3 * width], n_heads)
    allowed = causal_mask(len(x))
    combined = np.concatenate([attention(qs[head], ks[head], vs[head], allowed) for head in range(n_heads)], axis=1)
    return x + np.dot(combined, params["w_out"]) + params["b_out"]


def main():
    params = init_params(16)
    x = np.random.default_rng(1).normal(size=(8, 16))
    y = multi_head_attention(x, params, n_heads=4)
    print(y.shape, float(np.abs(y).mean()))


if __name__ == "__main__":
    main()
