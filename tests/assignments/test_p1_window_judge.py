"""p1 judge, train's random windows read from learning-rate-0 losses, over fabricated runs: every window design the
handout allows passes (uniform starts with torch, numpy or random; non-overlapping chunks; a shuffled pass without
replacement), windows from the start, from the first half or never from the end fail, steps of 16 or 128 windows
when batch_size is 64 fail, and the stated false-failure bounds hold in simulation at a larger error rate. The real path (reference, alternatives, mutants in the sandbox) is
check-references."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from grader.judge import Failed, Judge, StepData, load_judge

JUDGE_DIR = Path(__file__).resolve().parents[2] / "assignments" / "p1" / "hidden_tests" / "judge"
HALF = 2**18  # the probe's (training_steps.py)
BLOCK = 16
BATCH = 64
STEPS = 800
FIRST_LOSS, SECOND_LOSS = 4.48, 3.58
# Straddling windows: the driver measured losses outside [second, first] on some architectures; these are wilder.
STRADDLING = np.linspace(6.0, 2.0, BLOCK)
# Straddling losses within a tenth of the gap outside the halves', like the driver's pick of two tokens gives.
MILD_STRADDLING = np.linspace(FIRST_LOSS + 0.09, SECOND_LOSS - 0.09, BLOCK)

Starts = Callable[[np.random.Generator, int, int], np.ndarray]  # (rng, count, stream length) -> window starts


@pytest.fixture(scope="module")
def judged() -> dict:
    judge: Judge = load_judge(JUDGE_DIR)
    return judge.checks["training_random_windows"].__globals__


def window_loss(starts: np.ndarray, half: int, straddling: np.ndarray) -> np.ndarray:
    first = starts + BLOCK < half
    second = starts >= half
    straddle_index = np.clip(starts - (half - BLOCK), 0, BLOCK - 1)
    return np.where(first, FIRST_LOSS, np.where(second, SECOND_LOSS, straddling[straddle_index]))


def run_of(
    draw: Starts, seed: int, half: int = HALF, steps: int = STEPS, straddling: np.ndarray = STRADDLING
) -> StepData:
    length = 2 * half
    starts = draw(np.random.default_rng(seed), steps * BATCH, length)
    losses = window_loss(starts, half, straddling).reshape(steps, BATCH).mean(axis=1)
    values = {
        "losses": [float(np.float32(loss)) for loss in losses],  # the student's float32 loss.item()
        "weights_changed": False,
        "batch_size": BATCH,
        "block_size": BLOCK,
        "half": half,
        "length": length,
        "first_half_loss": FIRST_LOSS,
        "second_half_loss": SECOND_LOSS,
        "straddling_losses": [float(loss) for loss in straddling],
    }
    return StepData("training_windows", True, values, {}, None, 1.0)


def probe_with(step: StepData):
    class Probe:
        def step(self, name: str) -> StepData:
            assert name == "training_windows"
            return step

    return Probe()


def uniform_torch_style(rng: np.random.Generator, count: int, length: int) -> np.ndarray:
    return rng.integers(0, length - BLOCK, size=count)


def uniform_python_random(rng: np.random.Generator, count: int, length: int) -> np.ndarray:
    source = random.Random(int(rng.integers(2**31)))
    return np.array([source.randint(0, length - BLOCK - 1) for _ in range(count)])


def one_short_range(rng: np.random.Generator, count: int, length: int) -> np.ndarray:
    return rng.integers(0, length - BLOCK - 1, size=count)  # randint(len(data) - block_size - 1): also allowed


def chunks(stride: int) -> Starts:
    def draw(rng: np.random.Generator, count: int, length: int) -> np.ndarray:
        return stride * rng.integers(0, (length - BLOCK - 1) // stride + 1, size=count)

    return draw


def shuffled_pass(rng: np.random.Generator, count: int, length: int) -> np.ndarray:
    return rng.permutation(length - BLOCK)[:count]


@pytest.mark.parametrize(
    "draw",
    [uniform_torch_style, uniform_python_random, one_short_range, chunks(BLOCK), chunks(BLOCK + 1), shuffled_pass],
)
def test_every_allowed_window_design_passes(judged, draw):
    for seed in range(10):
        judged["training_random_windows"](probe_with(run_of(draw, seed)))


def test_frequent_straddling_windows_with_extreme_losses_still_pass(judged):
    # A short stream makes straddling windows common (about 1 in 60); their losses lie far outside the halves'.
    for seed in range(20):
        judged["training_random_windows"](probe_with(run_of(uniform_torch_style, seed, half=512)))


@pytest.mark.parametrize(
    "draw",
    [
        lambda rng, count, length: rng.integers(0, 100, size=count),  # a fixed set of offsets at the start
        lambda rng, count, length: rng.integers(0, length // 2 - BLOCK, size=count),  # the first half only
        lambda rng, count, length: rng.integers(0, (length - BLOCK) // BLOCK, size=count),  # chunk index as start
        lambda rng, count, length: rng.integers(0, int(0.85 * length), size=count),  # never the last 15 %
        lambda rng, count, length: rng.integers(length // 4, length - BLOCK, size=count),  # never the first 25 %
    ],
    ids=["fixed_offsets", "first_half", "index_not_scaled", "never_the_end", "never_the_start"],
)
def test_windows_not_spread_over_the_stream_fail(judged, draw):
    with pytest.raises(Failed, match="came from the first half"):
        judged["training_random_windows"](probe_with(run_of(draw, 0)))


def test_changed_weights_fail_before_any_statistics(judged):
    step = run_of(uniform_torch_style, 0)
    step.values["weights_changed"] = True
    with pytest.raises(Failed, match="learning_rate=0.0"):
        judged["training_random_windows"](probe_with(step))


def run_ignoring_batch_size(used: int, seed: int, straddling: np.ndarray = STRADDLING) -> StepData:
    """A train called with batch_size=BATCH that draws `used` windows a step, uniformly over the stream."""
    step = run_of(uniform_torch_style, 0, straddling=straddling)
    starts = np.random.default_rng(seed).integers(0, 2 * HALF - BLOCK, size=STEPS * used)
    losses = window_loss(starts, HALF, straddling).reshape(STEPS, used).mean(axis=1)
    step.values["losses"] = [float(np.float32(loss)) for loss in losses]
    return step


def test_a_train_that_ignores_batch_size_is_told_so_when_it_fails(judged):
    messages = []
    for seed in range(10):
        try:
            judged["training_random_windows"](probe_with(run_ignoring_batch_size(1, seed)))
        except Failed as failure:
            messages.append(str(failure))
    assert len(messages) == 10
    assert all("as if each step's batch held about 1 independent windows" in message for message in messages)
    assert all("each step must train on batch_size windows" in message for message in messages)


def test_false_failure_rate_stays_within_the_stated_bound_in_simulation(judged):
    """At a stated rate of 0.3 the bound's arithmetic is exercised where failures are observable: the simulated rate
    of a correct design must stay under it, while a 6-point departure is caught at that rate."""

    def verdict(draw: Starts, seed: int):
        run = run_with_losses(run_of(draw, seed, half=4096), judged)
        return judged["first_half_share"](run, 0.3, judged["LOSS_TOLERANCE"])

    failures = sum(not verdict(uniform_torch_style, seed).fits for seed in range(300))
    assert failures / 300 <= 0.3
    skewed = [verdict(lambda rng, count, length: rng.integers(0, int(0.88 * length), size=count), s) for s in range(20)]
    assert not any(result.fits for result in skewed)


def test_chernoff_counts_bound_the_binomial_tails(judged):
    from scipy import stats

    statistics = judged["first_half_share"].__globals__
    for draws, p, alpha in ((4800, 0.5, 1e-6 / 3), (4800, 1e-4, 1e-6 / 3), (300, 0.3, 0.05)):
        high = statistics["chernoff_upper"](draws, p, alpha)
        low = statistics["chernoff_lower"](draws, p, alpha)
        assert stats.binom.sf(high - 1, draws, p) <= alpha
        assert low < 0 or stats.binom.cdf(low, draws, p) <= alpha
        assert low < draws * p < high


def run_with_losses(step: StepData, judged: dict):
    values = step.values
    return judged["WindowRun"](
        losses=np.asarray(values["losses"]),
        batch_size=BATCH,
        block_size=BLOCK,
        half=values["half"],
        length=values["length"],
        first_half_loss=FIRST_LOSS,
        second_half_loss=SECOND_LOSS,
        straddling_losses=np.asarray(values["straddling_losses"]),
    )


@pytest.mark.parametrize("used", [16, 128])
def test_steps_of_another_batch_size_fail_on_the_spread_of_their_shares(judged, used):
    for seed in range(10):
        with pytest.raises(Failed, match=r"as if each step's batch held about (\d+) independent windows") as failure:
            judged["training_random_windows"](probe_with(run_ignoring_batch_size(used, seed, MILD_STRADDLING)))
        held = int(re.search(r"held about (\d+)", str(failure.value)).group(1))
        assert 0.7 * used <= held <= 1.4 * used


@pytest.mark.parametrize(
    "draw", [uniform_torch_style, chunks(BLOCK + 1), shuffled_pass], ids=["uniform", "chunks", "pass"]
)
def test_spread_false_failure_rate_stays_within_a_looser_stated_rate_in_simulation(judged, draw):
    """At a stated rate of 0.2 the spread bounds are exercised where failures are observable."""
    spread = judged["batch_spread"]
    verdicts = [
        spread(run_with_losses(run_of(draw, seed), judged), 0.2, judged["LOSS_TOLERANCE"]) for seed in range(60)
    ]
    assert sum(not verdict.fits for verdict in verdicts) / len(verdicts) <= 0.2
    assert 0.9 < np.mean([verdict.ratio for verdict in verdicts]) < 1.1


def test_sum_of_squares_limits_bound_the_exact_tails(judged):
    """Against the exact distribution of a sum of squared binomial deviations (by convolution) and scipy's pmfs."""
    from scipy import stats

    statistics = judged["batch_spread"].__globals__
    batch, p, steps, alpha = 16, 0.5, 6, 1e-3
    counts = np.arange(batch + 1)
    log_pmf = statistics["binomial_log_pmf"](batch, p)
    assert np.allclose(np.exp(log_pmf), stats.binom.pmf(counts, batch, p))
    assert np.allclose(
        np.exp(statistics["hypergeometric_log_pmf"](batch, 300, 700)), stats.hypergeom.pmf(counts, 700, 300, batch)
    )
    squares = ((counts - batch * p) ** 2).astype(int)  # whole numbers at p = 1/2: the sum's pmf by convolution
    one = np.zeros(squares.max() + 1)
    np.add.at(one, squares, stats.binom.pmf(counts, batch, p))
    total = np.array([1.0])
    for _ in range(steps):
        total = np.convolve(total, one)
    low, high = statistics["sum_of_squares_limits"](log_pmf, batch * p, steps, alpha)
    values = np.arange(len(total))
    assert total[values >= high].sum() <= alpha
    assert total[values <= low].sum() <= alpha
    assert 0 < low < steps * batch * p * (1 - p) < high
