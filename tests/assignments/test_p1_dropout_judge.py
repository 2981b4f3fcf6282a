"""p1 judge, dropout's rate, over fabricated passes: a model that drops at config.dropout passes (a rare drop among
the rare-rate passes included), a fixed rate or the keep probability fails. The real path (reference, alternatives,
mutants in the sandbox) is check-references."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader.judge import Failed, StepData, load_judge

JUDGE_DIR = Path(__file__).resolve().parents[2] / "assignments" / "p1" / "hidden_tests" / "judge"
PASSES = 10
RARE_RATE = 1e-6
EVAL = np.random.default_rng(0).normal(size=(1, 4, 65)).astype(np.float32)


@pytest.fixture(scope="module")
def dropout_check():
    return load_judge(JUDGE_DIR).checks["dropout_follows_config"]


def dropped(count: int) -> np.ndarray:
    """PASSES train-mode passes of which the first `count` dropped something (moved the logits visibly); the others
    differ from eval mode only by the 1 / (1 - p) rescaling."""
    passes = np.repeat(EVAL[None], PASSES, axis=0) * np.float32(1 / (1 - RARE_RATE))
    passes[:count] += np.random.default_rng(1).normal(scale=0.2, size=passes[:count].shape).astype(np.float32)
    return passes


def probe_of(off_dropped: int, rare_dropped: int):
    off_passes = np.repeat(EVAL[None], PASSES, axis=0)
    off_passes[:off_dropped] += 0.3
    arrays = {"off_eval": EVAL, "off_train": off_passes, "rare_eval": EVAL, "rare_train": dropped(rare_dropped)}
    step = StepData("dropout_rate", True, {"rare_rate": RARE_RATE}, arrays, None, 1.0)

    class Probe:
        def step(self, name: str) -> StepData:
            assert name == "dropout_rate"
            return step

    return Probe()


@pytest.mark.parametrize("rare_dropped", [0, 1, PASSES - 1])
def test_dropout_at_the_configured_rate_passes(dropout_check, rare_dropped):
    dropout_check(probe_of(off_dropped=0, rare_dropped=rare_dropped))


def test_a_fixed_rate_fails_at_dropout_zero(dropout_check):
    with pytest.raises(Failed, match="config.dropout = 0"):
        dropout_check(probe_of(off_dropped=PASSES, rare_dropped=PASSES))


def test_the_keep_probability_fails_at_a_rare_rate(dropout_check):
    # 1 - p at p = 1e-6 drops nearly everything in every pass.
    with pytest.raises(Failed, match="every train\\(\\)-mode pass dropped something"):
        dropout_check(probe_of(off_dropped=0, rare_dropped=PASSES))


def test_the_stated_false_failure_bound_holds_for_many_dropout_draws():
    """The docstring's arithmetic: with up to 100,000 draws a pass at p = 1e-6 drops nothing with probability
    above 0.9, so all 10 passes drop something with probability below 1e-10 (at most 1e-6)."""
    no_drop = (1 - RARE_RATE) ** 100_000
    assert no_drop > 0.9
    assert (1 - no_drop) ** PASSES < 1e-10
