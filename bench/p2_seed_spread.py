"""Seed spread of p2 fine-tuning: a solution folder is fine-tuned as the probe does (train split, max_length 48,
2 epochs), once per seed, and its predictions on every validation and hidden text are written out, so any split of
those texts can be scored afterwards. Seed n seeds the global generators (what the sandbox does with the grading
seed) and is passed as FineTuneConfig.seed.

Run:  python bench/p2_seed_spread.py reference_solutions/p2 --seeds 0 1 2 3 4 --out p2_spread.json
"""

from __future__ import annotations

import argparse
import importlib
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

ASSIGNMENT = Path(__file__).resolve().parent.parent / "assignments" / "p2"


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def pool_texts() -> list[str]:
    validation = [record["text"] for record in read_jsonl(ASSIGNMENT / "data" / "validation.jsonl")]
    hidden = json.loads((ASSIGNMENT / "hidden_tests" / "probe" / "data" / "hidden_texts.json").read_text("utf-8"))
    return validation + hidden


def run_seed(solution, seed: int, texts: list[str]) -> dict:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    train = read_jsonl(ASSIGNMENT / "data" / "train.jsonl")
    config = solution.FineTuneConfig(num_labels=4, max_length=48, epochs=2, time_budget_s=1e9, seed=seed, device="cpu")
    started = time.perf_counter()
    classifier = solution.fine_tune([r["text"] for r in train], [r["label"] for r in train], config)
    elapsed_s = time.perf_counter() - started
    predictions = [int(label) for label in classifier.predict(texts)]
    return {"seed": seed, "train_s": round(elapsed_s, 1), "predictions": dict(zip(texts, predictions))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("solution", type=Path)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--out", type=Path, required=True)
    arguments = parser.parse_args()
    sys.path.insert(0, str(arguments.solution.resolve()))
    solution = importlib.import_module("solution")
    torch.set_num_threads(2)
    texts = pool_texts()
    runs = json.loads(arguments.out.read_text("utf-8")) if arguments.out.is_file() else []
    done = {run["seed"] for run in runs}
    for seed in arguments.seeds:
        if seed in done:
            continue
        runs.append(run_seed(solution, seed, texts))
        arguments.out.write_text(json.dumps(runs), encoding="utf-8")
        print(f"seed {seed}: trained in {runs[-1]['train_s']} s", flush=True)


if __name__ == "__main__":
    main()
