"""Seed spread of p1's graded training run: a solution folder's default model is trained as the probe trains it
(400 steps on the hidden corpus, batch 16, one thread; no time budget, so the figure is the code's, not the
machine's load), once per seed, and its held-out loss (nats per character, computed as the probe does) printed.
Also prints what simple character statistics reach on the same held-out text (n-gram models of the corpus,
add-k smoothing with the best k on the held-out text itself, so the figures are a lower bound for them).

Run:  python bench/p1_seed_spread.py reference_solutions/p1 --seeds 0 1 2 3
"""

from __future__ import annotations

import argparse
import importlib
import math
import sys
from collections import Counter
from pathlib import Path

import torch
import torch.nn.functional as F

DATA = Path(__file__).resolve().parent.parent / "assignments" / "p1" / "hidden_tests" / "probe" / "data"
TRAINING_STEPS = 400


def heldout_loss(model, ids: list[int]) -> float:
    block = min(int(model.config.block_size), 256)
    tensor = torch.tensor(ids, dtype=torch.long)
    count = (len(tensor) - 1) // block
    x = tensor[: count * block].view(count, block)
    y = tensor[1 : count * block + 1].view(count, block)
    model.eval()
    with torch.no_grad():
        logits = model(x)[0].float()
    return float(-F.log_softmax(logits, dim=-1).gather(-1, y.unsqueeze(-1)).mean())


def ngram_loss(corpus: str, heldout: str, order: int, vocabulary: int) -> float:
    """Held-out nats per character of an add-k n-gram model of the corpus, at the best k of a small grid."""
    counts = Counter(corpus[i : i + order] for i in range(len(corpus) - order + 1))
    contexts = Counter(corpus[i : i + order - 1] for i in range(len(corpus) - order + 2))
    best = math.inf
    for k in (0.01, 0.03, 0.1, 0.3, 1.0):
        total = 0.0
        for i in range(order - 1, len(heldout)):
            gram = heldout[i - order + 1 : i + 1]
            total -= math.log((counts[gram] + k) / (contexts[gram[:-1]] + k * vocabulary))
        best = min(best, total / (len(heldout) - order + 1))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("solution", type=Path)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    parser.add_argument("--ngrams", action="store_true", help="also print the n-gram figures")
    arguments = parser.parse_args()
    torch.set_num_threads(1)
    corpus, heldout = (DATA / "corpus.txt").read_text("utf-8"), (DATA / "heldout.txt").read_text("utf-8")
    vocabulary = sorted(set(corpus))
    id_of = {char: index + 1 for index, char in enumerate(vocabulary)}
    if arguments.ngrams:
        for order in (1, 2, 3, 4):
            print(f"{order}-gram: {ngram_loss(corpus, heldout, order, len(vocabulary) + 1):.3f}", flush=True)
    sys.path.insert(0, str(arguments.solution.resolve()))
    solution = importlib.import_module("solution")
    corpus_ids, heldout_ids = [id_of[c] for c in corpus], [id_of[c] for c in heldout]
    for seed in arguments.seeds:
        torch.manual_seed(seed)
        model = solution.GPT(solution.default_config(len(vocabulary) + 1))
        losses = solution.train(model, corpus_ids, max_steps=TRAINING_STEPS, time_budget_s=1e9, seed=seed)
        print(
            f"{arguments.solution} seed {seed}: {len(losses)} steps, held-out {heldout_loss(model, heldout_ids):.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
