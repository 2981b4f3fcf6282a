"""The dev-set report's per-task verdicts (bench/plagiarism/evaluate.py): what the transfer target runs into."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

EVALUATE = Path(__file__).resolve().parents[2] / "bench" / "plagiarism" / "evaluate.py"


@pytest.fixture(scope="module")
def evaluate() -> ModuleType:
    """The benchmark script as a module, imported by the tests that use it: it loads scikit-learn and copydetect,
    which collecting the whole suite in every test process need not pay for."""
    sys.path.insert(0, str(EVALUATE.parent))
    import evaluate

    return evaluate


def _task(
    name: str, negatives: list[float], structural: list[float], paraphrase: list[float]
) -> list[tuple[dict, float]]:
    rows = [
        ({"task": name, "label": 0, "level": "renamed", "a": f"s{number}.py", "b": "t.py"}, score)
        for number, score in enumerate(negatives)
    ]
    rows += [({"task": name, "label": 1, "level": "structural"}, score) for score in structural]
    rows += [({"task": name, "label": 1, "level": "paraphrase"}, score) for score in paraphrase]
    return rows


@pytest.fixture
def two_tasks() -> tuple[list[dict], np.ndarray]:
    """150 negatives each (1 % allows one false positive per task). In `twins` two negatives outscore its weakest
    paraphrase; in `clean` one negative lies high, below every copy."""
    twins = _task("twins", [0.1] * 148 + [0.95, 0.9], [0.99] * 4, [0.99, 0.99, 0.99, 0.8])
    clean = _task("clean", [0.1] * 149 + [0.85], [0.99] * 4, [0.9] * 4)
    rows, scores = zip(*(twins + clean))
    return list(rows), np.array(scores)


def test_a_task_whose_second_negative_outscores_a_copy_it_must_find_is_unreachable(two_tasks, evaluate):
    rows, scores = two_tasks
    assert not evaluate._reachable("twins", scores, rows)
    assert evaluate._reachable("clean", scores, rows)


def test_the_pooled_one_percent_threshold_leaves_more_above_it_than_the_tasks_allow(two_tasks, evaluate):
    rows, scores = two_tasks
    verdict = evaluate.per_task_bound(scores, rows)
    # 300 pooled negatives: 3 lie above their 99th percentile; two tasks of 150 allow 1 each.
    assert verdict.startswith(
        "3 pooled negatives lie above the threshold; 1 % of each task's negatives allows at most 2 over the 2 tasks, so at least one task exceeds"
    )
    assert verdict.endswith("meets both bounds with these scores: twins.")


def test_help_prints_usage_without_running_the_benchmark():
    # The benchmark rebuilds the cohorts and rewrites calibration.json and RESULTS.md over minutes; --help must not.
    shown = subprocess.run([sys.executable, str(EVALUATE), "--help"], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0
    assert shown.stdout.startswith("usage: evaluate.py")


def test_the_threshold_set_without_a_task_comes_from_the_other_tasks_negatives_alone(evaluate):
    # Pooled, low's own 150 quiet negatives hold the 99th percentile at 0.1; without them it is high's, about 0.51.
    low = _task("low", [0.1] * 150, [0.5] * 4, [0.5] * 4)
    high = _task("high", [0.1] * 148 + [0.9, 0.9], [0.99] * 4, [0.99] * 4)
    rows, scores = zip(*(low + high))
    table = evaluate.by_task(np.array(scores), list(rows))
    assert (
        next(line for line in table if line.startswith("| low |"))
        == "| low | 8/8 | 4/4 | 4/4 | 0/150 | none | 0/4 | 0/4 | 0/150 |"
    )
