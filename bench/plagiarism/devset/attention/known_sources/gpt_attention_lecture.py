"""Known source for the attention task: the lecture's causal self-attention ("Attention Is All You Need", section
3.2; Karpathy, "Let's build GPT: from scratch, in code, spelled out", and nanoGPT's CausalSelfAttention and the
lecture's LayerNorm1d), with torch transcribed to numpy, the library the assignment uses.

Written from the lecture for the plagiarism dev set; not derived from the dev set's solutions (independent/, rewrites/).
"""

import math

import numpy as np


def softmax(x, axis=-1):
    x = x - x.max(axis=axis, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)


class LayerNorm1d:
    def __init__(self, dim, eps=1e-5):
        self.eps = eps
        self.gamma = np.ones(dim)
        self.beta = np.zeros(dim)

    def __call__(self, x):
        xmean = x.mean(-1, keepdims=True)
        xvar = x.var(-1, keepdims=True)
        xhat = (x - xmean) / np.sqrt(xvar + self.eps)
        self.out = self.gamma * xhat + self.beta
        return self.out


# one head of self-attention
B, T, C = 4, 8, 32
rng = np.random.default_rng(1337)
x = rng.standard_normal((B, T, C))
head_size = 16
key = rng.standard_normal((C, head_size)) / math.sqrt(C)
query = rng.standard_normal((C, head_size)) / math.sqrt(C)
value = rng.standard_normal((C, head_size)) / math.sqrt(C)
k = x @ key
q = x @ query
wei = q @ k.transpose(0, 2, 1) * head_size**-0.5
tril = np.tril(np.ones((T, T)))
wei = np.where(tril == 0, float("-inf"), wei)
wei = softmax(wei, axis=-1)
v = x @ value
out = wei @ v
print(out.shape)


class CausalSelfAttention:
    def __init__(self, n_embd, n_head, block_size, rng):
        assert n_embd % n_head == 0
        self.c_attn_w = rng.standard_normal((n_embd, 3 * n_embd)) * 0.02
        self.c_attn_b = np.zeros(3 * n_embd)
        self.c_proj_w = rng.standard_normal((n_embd, n_embd)) * 0.02
        self.c_proj_b = np.zeros(n_embd)
        self.bias = np.tril(np.ones((block_size, block_size))).reshape(1, 1, block_size, block_size)
        self.n_head = n_head
        self.n_embd = n_embd

    def __call__(self, x):
        B, T, C = x.shape
        qkv = x @ self.c_attn_w + self.c_attn_b
        q, k, v = np.split(qkv, 3, axis=2)
        k = k.reshape(B, T, self.n_head, C // self.n_head).transpose(0, 2, 1, 3)
        q = q.reshape(B, T, self.n_head, C // self.n_head).transpose(0, 2, 1, 3)
        v = v.reshape(B, T, self.n_head, C // self.n_head).transpose(0, 2, 1, 3)
        att = (q @ k.transpose(0, 1, 3, 2)) * (1.0 / math.sqrt(k.shape[-1]))
        att = np.where(self.bias[:, :, :T, :T] == 0, float("-inf"), att)
        att = softmax(att, axis=-1)
        y = att @ v
        y = y.transpose(0, 2, 1, 3).reshape(B, T, C)
        y = y @ self.c_proj_w + self.c_proj_b
        return y


class Block:
    def __init__(self, n_embd, n_head, block_size, rng):
        self.ln_1 = LayerNorm1d(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head, block_size, rng)

    def __call__(self, x):
        x = x + self.attn(self.ln_1(x))
        return x


block = Block(C, 4, T, rng)
print(block(x).shape)
