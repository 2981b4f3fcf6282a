"""p1 judge, causal_mask (R11): the logits at a position depend only on the tokens up to it, neither on later tokens
nor on how many follow. The real path (the reference and mutants causal_mask_removed, attention_scaled_by_length in
the sandbox) is check-references."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader.judge import Judge, ProbeData, StepData, load_judge

JUDGE_DIR = Path(__file__).resolve().parents[2] / "assignments" / "p1" / "hidden_tests" / "judge"
CHANGED_AFTER = 6
TIME, VOCAB = 16, 5


@pytest.fixture(scope="module")
def judge() -> Judge:
    return load_judge(JUDGE_DIR)


@pytest.fixture
def causal_logits() -> dict[str, np.ndarray]:
    """What a causal model records: later positions change with the later tokens, the first ones never do."""
    generator = np.random.default_rng(0)
    original = generator.normal(size=(1, TIME, VOCAB))
    changed = original.copy()
    changed[:, CHANGED_AFTER + 1 :] += 1.0
    return {
        "logits_original": original,
        "logits_changed": changed,
        "logits_prefix": original[:, : CHANGED_AFTER + 1].copy(),
    }


def passes(judge: Judge, arrays: dict[str, np.ndarray]) -> bool:
    step = StepData("causality", True, {"changed_after": CHANGED_AFTER}, arrays, None, 0.1)
    return judge.run(ProbeData(steps={step.name: step}, finished=True))["causal_mask"].passed


def test_a_causal_model_passes(judge, causal_logits):
    assert passes(judge, causal_logits)


def test_logits_that_depend_on_later_tokens_fail(judge, causal_logits):
    causal_logits["logits_changed"][:, CHANGED_AFTER] += 1.0
    assert not passes(judge, causal_logits)


def test_a_prefix_whose_logits_depend_on_the_sequence_length_fails(judge, causal_logits):
    causal_logits["logits_prefix"] = causal_logits["logits_prefix"] * (16 / TIME) ** 0.5 + 1e-3
    assert not passes(judge, causal_logits)


def test_a_prefix_of_the_wrong_length_fails(judge, causal_logits):
    causal_logits["logits_prefix"] = causal_logits["logits_original"]
    assert not passes(judge, causal_logits)
