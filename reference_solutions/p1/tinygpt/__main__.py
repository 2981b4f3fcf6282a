"""Clean a corpus, train a tiny GPT on it, save a checkpoint and print a sample.

    python -m tinygpt --corpus corpus.txt                       # the graded size, a minute on a CPU
    python -m tinygpt --corpus corpus.txt --device auto --preset gpu --max-steps 5000 --time-budget 900
"""

import argparse
import time
from dataclasses import replace
from pathlib import Path

import torch

from .checkpoint import save_checkpoint
from .cleaning import clean_corpus
from .device import resolve_device
from .model import GPT, GPTConfig, default_config
from .sampling import generate
from .tokenizer import CharTokenizer
from .train import train

HELDOUT_FRACTION = 0.1


def gpu_config(vocab_size: int) -> GPTConfig:
    """A larger model for a GPU run (about 10.8M parameters: far above the graded limit, which binds only
    default_config)."""
    return GPTConfig(vocab_size=vocab_size, block_size=256, n_layer=6, n_head=6, n_embd=384, dropout=0.2)


@torch.no_grad()
def heldout_loss(model: GPT, ids: list[int], batch_size: int = 64) -> float:
    block = model.config.block_size
    tokens = torch.tensor(ids, dtype=torch.long)
    count = (len(tokens) - 1) // block
    x = tokens[:count * block].view(count, block)
    y = tokens[1:count * block + 1].view(count, block)
    device = next(model.parameters()).device
    model.eval()
    losses = [model(x[i:i + batch_size].to(device), y[i:i + batch_size].to(device))[1].item()
              for i in range(0, count, batch_size)]
    return sum(losses) / len(losses)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, required=True, help="a UTF-8 text file, one document per line")
    parser.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, cuda, cuda:1 ...")
    parser.add_argument("--preset", choices=["graded", "gpu"], default="graded")
    parser.add_argument("--max-steps", type=int, default=1000)
    parser.add_argument("--time-budget", type=float, default=120.0, help="seconds")
    parser.add_argument("--batch-size", type=int, default=None, help="default: 16 (graded) or 64 (gpu)")
    parser.add_argument("--learning-rate", type=float, default=None, help="default: 3e-3 (graded) or 1e-3 (gpu)")
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--out", type=Path, default=Path("tinygpt.pt"))
    parser.add_argument("--sample-tokens", type=int, default=400)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--top-k", type=int, default=20)
    arguments = parser.parse_args()

    device = resolve_device(arguments.device)
    text = clean_corpus(arguments.corpus.read_text(encoding="utf-8"))
    split = int(len(text) * (1 - HELDOUT_FRACTION))
    tokenizer = CharTokenizer(text[:split])
    train_ids, heldout_ids = tokenizer.encode(text[:split]), tokenizer.encode(text[split:])
    gpu = arguments.preset == "gpu"
    config = gpu_config(tokenizer.vocab_size) if gpu else default_config(tokenizer.vocab_size)
    config = replace(config, block_size=min(config.block_size, len(heldout_ids) - 1))
    torch.manual_seed(arguments.seed)
    model = GPT(config).to(device)
    print(f"device {device}, {model.num_parameters():,} parameters, {len(train_ids):,} training characters")
    print(f"held-out loss before training: {heldout_loss(model, heldout_ids):.3f}")
    started = time.perf_counter()
    losses = train(model, train_ids, max_steps=arguments.max_steps, time_budget_s=arguments.time_budget,
                   seed=arguments.seed, device=device,
                   batch_size=arguments.batch_size or (64 if gpu else 16),
                   learning_rate=arguments.learning_rate or (1e-3 if gpu else 3e-3))
    print(f"{len(losses)} steps in {time.perf_counter() - started:.1f} s, last training loss {losses[-1]:.3f}")
    print(f"held-out loss after training: {heldout_loss(model, heldout_ids):.3f}")
    save_checkpoint(arguments.out, model, tokenizer)
    print(f"checkpoint: {arguments.out}")
    prompt = tokenizer.encode(text[:20])
    sample = generate(model, prompt, arguments.sample_tokens, temperature=arguments.temperature,
                      top_k=arguments.top_k, seed=arguments.seed)
    print(tokenizer.decode(sample))


if __name__ == "__main__":
    main()
