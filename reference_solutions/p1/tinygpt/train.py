"""Training: random windows of the token stream, AdamW, stop at a step or a wall-clock budget."""

import time

import torch

from .model import GPT


def get_batch(data: torch.Tensor, block_size: int, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    starts = torch.randint(len(data) - block_size, (batch_size,))
    x = torch.stack([data[start:start + block_size] for start in starts])
    y = torch.stack([data[start + 1:start + block_size + 1] for start in starts])
    return x, y


def train(model: GPT, data: list[int], *, max_steps: int, time_budget_s: float, seed: int,
          batch_size: int = 16, learning_rate: float = 3e-3, device: str = "cpu") -> list[float]:
    started = time.perf_counter()
    # Seeding here, not by the caller: the same seed gives the same batches and dropout masks, whatever used the
    # global RNG before.
    torch.manual_seed(seed)
    tokens = torch.tensor(data, dtype=torch.long)
    block_size = min(model.config.block_size, len(tokens) - 1)
    model.to(device)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)
    losses: list[float] = []
    for _ in range(max_steps):
        if time.perf_counter() - started >= time_budget_s:
            break
        x, y = get_batch(tokens, block_size, batch_size)
        _, loss = model(x.to(device), y.to(device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    return losses
