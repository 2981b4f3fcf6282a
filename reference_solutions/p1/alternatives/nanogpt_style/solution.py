"""Project 1: a tiny character-level GPT, written in the style of Karpathy's nanoGPT (model.py / train.py).

* learned absolute position embeddings `wpe`, token embeddings `wte` tied to `lm_head`;
* pre-norm blocks: LayerNorm -> causal self-attention (F.scaled_dot_product_attention with is_causal=True)
  -> residual, LayerNorm -> GELU MLP -> residual; a final LayerNorm `ln_f`;
* GPT-2 initialisation (normal, std 0.02; residual projections scaled by 1/sqrt(2 * n_layer));
* AdamW with weight decay on the 2-D parameters only, warm-up then cosine decay of the learning rate.
"""

from __future__ import annotations

import math
import time
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn as nn
from torch.nn import functional as F


# ---------------------------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------------------------

def clean_corpus(raw: str) -> str:
    """NFKC, drop format (Cf) characters, split lines, collapse whitespace, drop empty and case-insensitive
    duplicate lines (first one kept as it is), each kept line followed by a newline."""
    text = unicodedata.normalize("NFKC", raw)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    out = []
    seen = set()
    for line in text.splitlines():
        line = " ".join(line.split())
        if line and line.casefold() not in seen:
            seen.add(line.casefold())
            out.append(line + "\n")
    return "".join(out)


class CharTokenizer:
    """ids 1.. for the sorted distinct characters of the training text, 0 for anything unknown."""

    def __init__(self, text: str) -> None:
        self.chars = sorted(set(text))
        self.stoi = {ch: i for i, ch in enumerate(self.chars, start=1)}
        self.itos = {i: ch for i, ch in enumerate(self.chars, start=1)}
        self.itos[0] = "\ufffd"

    @property
    def vocab_size(self) -> int:
        return len(self.chars) + 1

    def encode(self, text: str) -> list[int]:
        return [self.stoi.get(ch, 0) for ch in text]

    def decode(self, ids: list[int]) -> str:
        return "".join(self.itos.get(int(i), "\ufffd") for i in ids)


# ---------------------------------------------------------------------------------------------------------------
# model (after nanoGPT's model.py)
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class GPTConfig:
    vocab_size: int
    block_size: int = 64  # the longest sequence the model accepts
    n_layer: int = 2
    n_head: int = 4  # n_embd must be divisible by n_head
    n_embd: int = 64
    dropout: float = 0.0


class CausalSelfAttention(nn.Module):

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        assert config.n_embd % config.n_head == 0
        # key, query, value projections for all heads, but in a batch
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd)
        # output projection
        self.c_proj = nn.Linear(config.n_embd, config.n_embd)
        # regularization
        self.attn_dropout = nn.Dropout(config.dropout)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        self.dropout = config.dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.size()  # batch size, sequence length, embedding dimensionality (n_embd)
        # calculate query, key, values for all heads in batch and move head forward to be the batch dim
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        # causal self-attention; Self-attend: (B, nh, T, hs) x (B, nh, hs, T) -> (B, nh, T, T)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=None,
                                           dropout_p=self.dropout if self.training else 0.0, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # re-assemble all head outputs side by side
        # output projection
        y = self.resid_dropout(self.c_proj(y))
        return y


class MLP(nn.Module):

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.c_fc(x)
        x = self.gelu(x)
        x = self.c_proj(x)
        x = self.dropout(x)
        return x


class Block(nn.Module):

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x


class GPT(nn.Module):

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        assert config.vocab_size is not None
        assert config.block_size is not None
        self.config = config

        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=nn.LayerNorm(config.n_embd),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        # weight tying: the token embedding and the output head share one matrix
        self.transformer.wte.weight = self.lm_head.weight

        # init all weights
        self.apply(self._init_weights)
        # apply special scaled init to the residual projections, per GPT-2 paper
        for pn, p in self.named_parameters():
            if pn.endswith("c_proj.weight"):
                torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    def get_num_params(self) -> int:
        """Number of parameters (the tied wte/lm_head matrix counted once, as model.parameters() does)."""
        return sum(p.numel() for p in self.parameters())

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        device = idx.device
        b, t = idx.size()
        assert t <= self.config.block_size, f"Cannot forward sequence of length {t}, block size is only {self.config.block_size}"
        pos = torch.arange(0, t, dtype=torch.long, device=device)  # shape (t)

        # forward the GPT model itself
        tok_emb = self.transformer.wte(idx)  # token embeddings of shape (b, t, n_embd)
        pos_emb = self.transformer.wpe(pos)  # position embeddings of shape (t, n_embd)
        x = self.transformer.drop(tok_emb + pos_emb)
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)

        logits = self.lm_head(x)
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
        else:
            loss = None
        return logits, loss

    def configure_optimizers(self, weight_decay: float, learning_rate: float, betas: tuple[float, float]):
        # start with all of the candidate parameters that require grad
        param_dict = {pn: p for pn, p in self.named_parameters() if p.requires_grad}
        # any parameters that is 2D will be weight decayed, otherwise no: all weight tensors in matmuls +
        # embeddings decay, all biases and layernorms don't
        decay_params = [p for n, p in param_dict.items() if p.dim() >= 2]
        nodecay_params = [p for n, p in param_dict.items() if p.dim() < 2]
        optim_groups = [
            {"params": decay_params, "weight_decay": weight_decay},
            {"params": nodecay_params, "weight_decay": 0.0},
        ]
        return torch.optim.AdamW(optim_groups, lr=learning_rate, betas=betas)


def default_config(vocab_size: int) -> GPTConfig:
    """The graded architecture: 1 layer, 128 wide, 4 heads, 32 characters of context (about 210k parameters with a
    60-character vocabulary; tied embeddings, so the vocabulary costs vocab_size * n_embd once). On the public
    corpus one wide layer got further in 300 steps than 2-3 layers of 64 (held-out loss about 1.83 against 2.1).
    Narrower for a large vocabulary so that it always stays within 250,000 parameters."""
    for n_embd, n_layer in ((128, 1), (112, 1), (96, 1), (64, 1), (48, 1), (32, 1), (16, 1), (8, 1)):
        config = GPTConfig(vocab_size=vocab_size, block_size=32, n_layer=n_layer, n_head=4, n_embd=n_embd,
                           dropout=0.0)
        d = n_embd
        n_params = (vocab_size * d + config.block_size * d  # wte (= lm_head), wpe
                    + n_layer * (12 * d * d + 13 * d)  # blocks: 2 LayerNorms, attention, MLP
                    + 2 * d)  # ln_f
        if n_params <= 250_000:
            return config
    return GPTConfig(vocab_size=vocab_size, block_size=32, n_layer=1, n_head=1, n_embd=4, dropout=0.0)


# ---------------------------------------------------------------------------------------------------------------
# training (after nanoGPT's train.py)
# ---------------------------------------------------------------------------------------------------------------

def _get_lr(it: int, max_steps: int, learning_rate: float) -> float:
    """nanoGPT's schedule: linear warmup, cosine decay down to min_lr (learning_rate / 10) at max_steps."""
    warmup_iters = min(20, max(1, max_steps // 10))
    lr_decay_iters = max_steps
    min_lr = learning_rate / 10
    # 1) linear warmup for warmup_iters steps
    if it < warmup_iters:
        return learning_rate * (it + 1) / (warmup_iters + 1)
    # 2) if it > lr_decay_iters, return min learning rate
    if it > lr_decay_iters:
        return min_lr
    # 3) in between, use cosine decay down to min learning rate
    decay_ratio = (it - warmup_iters) / max(1, lr_decay_iters - warmup_iters)
    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))  # coeff ranges 0..1
    return min_lr + coeff * (learning_rate - min_lr)


def train(model: GPT, data: list[int], *, max_steps: int, time_budget_s: float, seed: int, batch_size: int = 16,
          learning_rate: float = 3e-3, device: str = "cpu") -> list[float]:
    t0 = time.time()
    model.to(device)
    losses: list[float] = []
    data_t = torch.tensor(data, dtype=torch.long)
    block_size = min(model.config.block_size, len(data_t) - 1)
    if block_size < 1 or max_steps <= 0:
        model.eval()
        return losses

    rng = torch.Generator().manual_seed(seed)

    def get_batch() -> tuple[torch.Tensor, torch.Tensor]:
        ix = torch.randint(len(data_t) - block_size, (batch_size,), generator=rng)
        x = torch.stack([data_t[i:i + block_size] for i in ix])
        y = torch.stack([data_t[i + 1:i + 1 + block_size] for i in ix])
        return x.to(device), y.to(device)

    optimizer = model.configure_optimizers(weight_decay=0.1, learning_rate=learning_rate, betas=(0.9, 0.99))
    cuda = torch.device(device).type == "cuda"
    with torch.random.fork_rng(devices=[torch.device(device)] if cuda else []):
        torch.manual_seed(seed)  # dropout draws from the global generator: seed it, restore it afterwards
        model.train()
        for it in range(max_steps):
            if time.time() - t0 >= time_budget_s:
                break
            lr = _get_lr(it, max_steps, learning_rate)
            for param_group in optimizer.param_groups:
                param_group["lr"] = lr
            X, Y = get_batch()
            logits, loss = model(X, Y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            losses.append(loss.item())
    model.eval()
    return losses


# ---------------------------------------------------------------------------------------------------------------
# sampling (after nanoGPT's GPT.generate)
# ---------------------------------------------------------------------------------------------------------------

@torch.no_grad()
def generate(model: GPT, prompt: list[int], max_new_tokens: int, *, temperature: float = 1.0,
             top_k: int | None = None, seed: int | None = None) -> list[int]:
    if temperature < 0:
        raise ValueError("temperature must be >= 0")
    if len(prompt) == 0 and max_new_tokens > 0:
        raise ValueError("the prompt must contain at least one token")
    device = next(model.parameters()).device
    generator = None
    if seed is not None:
        generator = torch.Generator(device=device)
        generator.manual_seed(seed)
    was_training = model.training
    model.eval()
    idx = torch.tensor([list(prompt)], dtype=torch.long, device=device).view(1, -1)
    try:
        for _ in range(max_new_tokens):
            # if the sequence context is growing too long we must crop it at block_size
            idx_cond = idx if idx.size(1) <= model.config.block_size else idx[:, -model.config.block_size:]
            logits, _ = model(idx_cond)
            logits = logits[:, -1, :]
            if temperature == 0:
                idx_next = torch.argmax(logits, dim=-1, keepdim=True)
            else:
                # pluck the logits at the final step and scale by desired temperature
                logits = logits / temperature
                # optionally crop the logits to only the top k options
                if top_k is not None:
                    v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
                    logits[logits < v[:, [-1]]] = -float("Inf")
                # apply softmax to convert logits to (normalized) probabilities
                probs = F.softmax(logits, dim=-1)
                # sample from the distribution
                idx_next = torch.multinomial(probs, num_samples=1, generator=generator)
            # append sampled index to the running sequence and continue
            idx = torch.cat((idx, idx_next), dim=1)
    finally:
        model.train(was_training)
    return [int(i) for i in idx[0].tolist()]


# ---------------------------------------------------------------------------------------------------------------
# checkpoints
# ---------------------------------------------------------------------------------------------------------------

def save_checkpoint(path: str | Path, model: GPT, tokenizer: CharTokenizer) -> None:
    torch.save({
        "model_args": asdict(model.config),
        "model": model.state_dict(),
        "vocab": "".join(tokenizer.chars),
    }, path)


def load_checkpoint(path: str | Path, device: str = "cpu") -> tuple[GPT, CharTokenizer]:
    checkpoint = torch.load(path, map_location=device, weights_only=True)
    model = GPT(GPTConfig(**checkpoint["model_args"]))
    model.load_state_dict(checkpoint["model"])
    model.to(device)
    model.eval()
    return model, CharTokenizer(checkpoint["vocab"])


# ---------------------------------------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------------------------------------

if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="tiny nanoGPT-style character model")
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--preset", choices=["default", "gpu"], default="default")
    parser.add_argument("--max-steps", type=int, default=500)
    parser.add_argument("--time-budget", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--out", default="ckpt.pt")
    args = parser.parse_args()

    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    with open(args.corpus, encoding="utf-8") as f:
        text = clean_corpus(f.read())
    tok = CharTokenizer(text)
    ids = tok.encode(text)
    n = int(0.9 * len(ids))
    if args.preset == "gpu":
        cfg = GPTConfig(tok.vocab_size, block_size=256, n_layer=6, n_head=6, n_embd=384, dropout=0.2)
        bs, lr = 64, 1e-3
    else:
        cfg = default_config(tok.vocab_size)
        bs, lr = 16, 3e-3
    torch.manual_seed(args.seed)
    m = GPT(cfg)
    print(f"number of parameters: {m.get_num_params():,}")
    losses = train(m, ids[:n], max_steps=args.max_steps, time_budget_s=args.time_budget, seed=args.seed,
                   batch_size=bs, learning_rate=lr, device=device)
    with torch.no_grad():
        val = torch.tensor(ids[n:n + 1 + 50 * cfg.block_size])
        xs = [val[i:i + cfg.block_size] for i in range(0, len(val) - cfg.block_size - 1, cfg.block_size)]
        ys = [val[i + 1:i + 1 + cfg.block_size] for i in range(0, len(val) - cfg.block_size - 1, cfg.block_size)]
        if xs:
            _, vloss = m(torch.stack(xs).to(device), torch.stack(ys).to(device))
            print(f"{len(losses)} steps, train loss {losses[-1]:.4f}, val loss {vloss.item():.4f}")
    save_checkpoint(args.out, m, tok)
    print(tok.decode(generate(m, tok.encode(text[:1]), 300, temperature=0.8, top_k=20, seed=args.seed)))
