"""p1 judge, sampling distributions, over fabricated draws: a correct sampler passes, and temperature or top-k
mistakes that the former total-variation test (300 draws, distance <= 0.2) let through fail. The false-failure
bound the judge states is checked by simulation at a larger error rate. The real path (reference and mutants in the
sandbox) is check-references."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader.judge import Failed, Judge, StepData, load_judge

JUDGE_DIR = Path(__file__).resolve().parents[2] / "assignments" / "p1" / "hidden_tests" / "judge"
DRAWS = 600
TOP_K = 3
# Next-token logits: three leading tokens, a fourth close enough to be drawn when top_k is off by one, a long tail.
LOGITS = np.concatenate([[0.84, 0.80, 0.72, 0.66, 0.34, 0.30], np.linspace(0.25, -0.3, 57)])


@pytest.fixture(scope="module")
def judge() -> Judge:
    return load_judge(JUDGE_DIR)


@pytest.fixture(scope="module")
def judged(judge: Judge) -> dict:
    return judge.checks["generate_sampling"].__globals__


def tempered(logits: np.ndarray, temperature: float, top_k: int | None) -> np.ndarray:
    scaled = logits / temperature
    if top_k is not None:
        scaled = np.where(scaled >= np.sort(scaled)[-top_k], scaled, -np.inf)
    weights = np.exp(scaled - scaled.max())
    return weights / weights.sum()


def step_with(samples: np.ndarray, temperature: float, top_k: int | None) -> StepData:
    values = {"temperature": temperature, "top_k": top_k, "samples": [int(sample) for sample in samples]}
    return StepData("generation_temperature", True, values, {"next_logits": LOGITS.astype(np.float32)}, None, 1.0)


def draws(probabilities: np.ndarray, seed: int = 0, count: int = DRAWS) -> np.ndarray:
    return np.random.default_rng(seed).choice(len(probabilities), size=count, p=probabilities)


@pytest.mark.parametrize(("temperature", "top_k"), [(0.12, None), (0.06, TOP_K)])
def test_a_correct_sampler_passes(judged, temperature, top_k):
    for seed in range(20):
        judged["sampling_distribution"](
            step_with(draws(tempered(LOGITS, temperature, top_k), seed), temperature, top_k)
        )


@pytest.mark.parametrize(
    ("temperature", "top_k", "drawn_from"),
    [
        (0.12, None, lambda t, k: tempered(LOGITS, 1.0, k)),  # temperature ignored
        (0.12, None, lambda t, k: tempered(LOGITS, 1.5 * t, k)),  # temperature off by half
        (0.06, TOP_K, lambda t, k: tempered(LOGITS, 1.0, k)),  # top-k path forgets the temperature
        (0.06, TOP_K, lambda t, k: tempered(LOGITS, 1e6, k)),  # uniform over the top k
        (0.06, TOP_K, lambda t, k: tempered(LOGITS, t, k + 1)),  # top k + 1
        (0.12, None, lambda t, k: tempered(tempered(LOGITS, t, k), 1.0, k)),  # softmax of the probabilities
    ],
    ids=[
        "temperature_ignored",
        "temperature_off_by_half",
        "top_k_ignores_temperature",
        "top_k_uniform",
        "top_k_plus_one",
        "softmax_of_probabilities",
    ],
)
def test_a_wrong_sampler_fails(judged, temperature, top_k, drawn_from):
    with pytest.raises(Failed, match="do not follow"):
        judged["sampling_distribution"](step_with(draws(drawn_from(temperature, top_k)), temperature, top_k))


def former_total_variation_passes(samples: np.ndarray, expected: np.ndarray) -> bool:
    observed = np.bincount(samples[:300], minlength=len(expected)) / 300
    return 0.5 * np.abs(observed - expected).sum() <= 0.2


def test_the_former_test_let_a_uniform_top_k_through():
    expected = tempered(LOGITS, 0.3, TOP_K)
    assert former_total_variation_passes(draws(tempered(LOGITS, 1e6, TOP_K)), expected)


def test_false_failures_stay_within_the_stated_rate(judged, monkeypatch):
    """At a rate large enough to observe (5 %), a correct sampler fails no more often than stated."""
    monkeypatch.setitem(judged, "SAMPLING_FALSE_FAILURE", 0.05)
    probabilities = tempered(LOGITS, 0.12, None)
    failures = sum(
        bool(judged["token_counts_fit"](np.bincount(draws(probabilities, seed), minlength=len(LOGITS)), probabilities))
        for seed in range(400)
    )
    assert failures <= 0.05 * 400
