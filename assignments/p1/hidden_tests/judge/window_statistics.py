"""Where train's random windows come from, read from its losses: the arithmetic of the judge's window check.

The probe trains with learning_rate 0 (the weights never move, so each returned loss is the fixed model's mean loss
on that step's batch) on a stream of `length` ids whose first `half` ids are one token and the rest another. A window
is `block_size` inputs and their `block_size` next ids, so it starts at one of M = length - block_size positions:
half - block_size of them give a window made of the first token only (loss `first_half_loss`, measured by the driver),
as many give one of the second token only (`second_half_loss`), and the block_size starts just before the middle give
a straddling window (their losses measured too). With f(w) = (loss(w) - second_half_loss) / (first_half_loss -
second_half_loss), a first-half window counts 1, a second-half window 0, a straddling one its own f, and a step's loss
gives the sum of f over its batch: the losses tell how many of all windows came from the first half.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class WindowRun:
    """One learning-rate-0 training run on the two-halves stream, as the probe measured it."""

    losses: np.ndarray  # one per step: the mean loss over the step's batch
    batch_size: int
    block_size: int
    half: int  # ids [0, half) are the first token, [half, length) the second
    length: int
    first_half_loss: float
    second_half_loss: float
    straddling_losses: np.ndarray  # the block_size windows that start in [half - block_size, half)


@dataclass(frozen=True)
class ShareVerdict:
    """The share of first-half windows the losses imply, and the range a correct train falls in."""

    observed: float
    low: float
    high: float
    fits: bool


def bernoulli_divergence(q: np.ndarray, p: float) -> np.ndarray:
    """KL(Bernoulli(q) || Bernoulli(p)), elementwise, 0 log 0 = 0."""
    q = np.asarray(q, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        first = np.where(q > 0, q * np.log(q / p), 0.0)
        second = np.where(q < 1, (1 - q) * np.log((1 - q) / (1 - p)), 0.0)
    return first + second


def chernoff_upper(draws: int, p: float, alpha: float) -> int:
    """The smallest count k > draws * p with P[X >= k] <= alpha for X a sum of `draws` Bernoulli(p) (draws + 1 when
    none): the Chernoff bound P[X >= k] <= exp(-draws * KL(k / draws || p))."""
    counts = np.arange(draws + 1)
    bound = np.exp(-draws * bernoulli_divergence(counts / draws, p))
    beyond = np.flatnonzero((counts > draws * p) & (bound <= alpha))
    return int(beyond[0]) if len(beyond) else draws + 1


def chernoff_lower(draws: int, p: float, alpha: float) -> int:
    """The largest count k < draws * p with P[X <= k] <= alpha (-1 when none), by the same bound."""
    return draws - chernoff_upper(draws, 1 - p, alpha)


def straddling_allowance(run: WindowRun, draws: int, alpha: float) -> int:
    """The most straddling windows among `draws`: more has probability at most alpha for a correct train."""
    return chernoff_upper(draws, min(1.0, (run.block_size + 1) / (run.length - run.block_size)), alpha) - 1


def first_half_share(run: WindowRun, false_failure: float, loss_tolerance: float) -> ShareVerdict:
    """Whether the losses fit windows whose starts are spread evenly over the whole stream.

    Let n = steps * batch_size windows, A of them first-half and Y straddling. The losses give F = sum of f over all
    windows = A + (sum of f over the straddling ones), so A lies in [F - Y max(0, max f), F - Y min(0, min f)],
    widened by n * loss_tolerance / |first_half_loss - second_half_loss| for the float rounding of each loss. A
    correct train draws each start uniformly from the M positions (p_A = (half - block_size) / M, p_Y = block_size /
    M) or from an even grid of them (non-overlapping chunks: p_A within 2 (block_size + 1) / M of that, p_Y at most
    (block_size + 1) / M), independently or as a shuffled pass without replacement. Three events, each given
    probability at most alpha = false_failure / 3 by the Chernoff bound (which holds for draws without replacement
    too: Hoeffding 1963, section 6): A >= a_high, A <= a_low, Y >= y_high. Outside them A is in (a_low, a_high) and
    in the interval above with Y < y_high, so the two meet; the check fails only when they do not, which for a
    correct train has probability at most 3 alpha = false_failure.
    """
    steps, batch = len(run.losses), run.batch_size
    draws = steps * batch
    starts = run.length - run.block_size
    gap = run.first_half_loss - run.second_half_loss
    shares = (np.asarray(run.losses, dtype=np.float64) - run.second_half_loss) / gap
    straddling = (np.asarray(run.straddling_losses, dtype=np.float64) - run.second_half_loss) / gap
    total = float(shares.sum()) * batch
    rounding = draws * loss_tolerance / abs(gap)
    alpha = false_failure / 3
    p_first = (run.half - run.block_size) / starts
    grid = 2 * (run.block_size + 1) / starts
    a_high = chernoff_upper(draws, min(1.0, p_first + grid), alpha)
    a_low = chernoff_lower(draws, max(0.0, p_first - grid), alpha)
    most_straddling = straddling_allowance(run, draws, alpha)
    fewest = total - most_straddling * max(0.0, float(straddling.max())) - rounding
    most = total - most_straddling * min(0.0, float(straddling.min())) + rounding
    return ShareVerdict(
        observed=total / draws,
        low=(a_low + 1) / draws,
        high=(a_high - 1) / draws,
        fits=bool(math.isfinite(total) and fewest <= a_high - 1 and most >= a_low + 1),
    )


@dataclass(frozen=True)
class SpreadVerdict:
    """How much the per-step counts of first-half windows spread, relative to batch_size independent windows."""

    ratio: float  # sum of squared deviations from their mean / (steps * batch_size * p (1 - p)): near 1 when correct
    low: float  # the ratios a correct train falls between
    high: float
    fits: bool


def _log_mgf(log_pmf: np.ndarray, squares: np.ndarray, lambdas: np.ndarray) -> np.ndarray:
    """log E exp(lambda Z) for each lambda, Z taking the values `squares` with log-probabilities `log_pmf`."""
    exponents = log_pmf[None, :] + lambdas[:, None] * squares[None, :]
    top = exponents.max(axis=1)
    return top + np.log(np.exp(exponents - top[:, None]).sum(axis=1))


def binomial_log_pmf(draws: int, p: float) -> np.ndarray:
    k = np.arange(draws + 1)
    lg = np.vectorize(math.lgamma)
    return lg(draws + 1) - lg(k + 1) - lg(draws - k + 1) + k * math.log(p) + (draws - k) * math.log1p(-p)


def hypergeometric_log_pmf(draws: int, successes: int, population: int) -> np.ndarray:
    """Counts of successes among `draws` taken without replacement from `population` holding `successes`."""

    def log_choose(n: int, k: np.ndarray) -> np.ndarray:
        inside = (k >= 0) & (k <= n)
        safe = np.clip(k, 0, n)
        lg = np.vectorize(math.lgamma)
        return np.where(inside, lg(n + 1) - lg(safe + 1) - lg(n - safe + 1), -np.inf)

    k = np.arange(draws + 1)
    return (
        log_choose(successes, k)
        + log_choose(population - successes, draws - k)
        - log_choose(population, np.array(draws))
    )


# Chernoff exponents tried, in units of 1 / (batch_size p (1 - p)), the variance of one step's count.
_LAMBDAS = np.concatenate([np.geomspace(1e-4, 0.499, 300), np.geomspace(1e-4, 60.0, 300)])


def sum_of_squares_limits(log_pmf: np.ndarray, mean: float, steps: int, alpha: float) -> tuple[float, float]:
    """(low, high) with P[sum Z <= low] <= alpha and P[sum Z >= high] <= alpha for the sum of `steps` independent
    Z = (count - mean)^2, count drawn from `log_pmf`. Chernoff: P[sum Z >= q] <= exp(-lambda q + steps log E e^(lambda
    Z)) for every lambda > 0, so q = (steps log E e^(lambda Z) - log alpha) / lambda is a valid `high` for each lambda:
    the least of them is taken; P[sum Z <= q] <= exp(lambda q + steps log E e^(-lambda Z)) likewise gives `low` as the
    largest (log alpha - steps log E e^(-lambda Z)) / lambda. E e^(lambda Z) is summed exactly over the pmf."""
    squares = (np.arange(len(log_pmf)) - mean) ** 2
    unit = float(np.exp(log_pmf) @ squares)
    if unit == 0:  # a count that never varies: sum Z is exactly 0
        return -math.ulp(0.0), math.ulp(0.0)
    lambdas = _LAMBDAS / unit
    high = float(np.min((steps * _log_mgf(log_pmf, squares, lambdas) - math.log(alpha)) / lambdas))
    low = float(np.max((math.log(alpha) - steps * _log_mgf(log_pmf, squares, -lambdas)) / lambdas))
    return low, high


def batch_spread(run: WindowRun, false_failure: float, loss_tolerance: float) -> SpreadVerdict:
    """Whether the per-step counts of first-half windows spread as batch_size independent windows' do (R15).

    A step of b windows drawn as R15 says has A_t first-half windows, A_t ~ Binomial(b, p) independently over the T
    steps; fewer windows a step spread the share A_t / b more, more windows less. The test is on S_A = sum (A_t - mean
    A)^2. As S_A <= sum (A_t - b p)^2 (the mean minimises it), P[S_A >= high] <= alpha with `high` from
    sum_of_squares_limits for Binomial(b, p_near), p_near the allowed p nearest 1/2 (starts uniform, or on a chunk
    grid, which moves p by up to 2 (block_size + 1) / M). As S_A = sum (A_t - b p)^2 - T (mean A - b p)^2, P[S_A <=
    low - r] <= alpha + 2 alpha, with `low` the lesser of Binomial(b, p_far) (p_far the allowed p farthest from 1/2)
    and of a shuffled pass over the fewest chunks, length // (block_size + 1), each step's count hypergeometric (the
    steps of one pass are taken as independent: their dependence fixes the pass's total, which leaves S_A's spread
    about the same; the simulation test covers it), and r = d^2 / T, d the Chernoff bound on |sum A_t - T b p|
    (chernoff_upper/lower at alpha each, valid without replacement too). The losses give C_t = b * share_t,
    which differs from A_t by the straddling windows' f (each |f| <= m; fewer than y_high of them in all, a fifth
    event of probability alpha) and the loss rounding e per step: sum (A_t - mean C)^2 is within Delta = 2 D (y m +
    T e) + 2 (y^2 m^2 + T e^2) of S_C = sum (C_t - mean C)^2 (D = max |C_t - mean C|), and mean A within (y m + T
    e) / T of mean C. So S_A lies in [S_C - Delta - (y m + T e)^2 / T, S_C + Delta]; the check fails only when that
    range is above `high` or below `low - r`: five events of alpha = false_failure / 5 each.
    """
    steps, batch = len(run.losses), run.batch_size
    alpha = false_failure / 5
    starts = run.length - run.block_size
    p = (run.half - run.block_size) / starts
    grid = 2 * (run.block_size + 1) / starts
    p_near = min(max(0.5, p - grid), p + grid)
    p_far = p - grid if abs(p - grid - 0.5) >= abs(p + grid - 0.5) else p + grid
    gap = run.first_half_loss - run.second_half_loss
    counts = (np.asarray(run.losses, dtype=np.float64) - run.second_half_loss) / gap * batch
    straddling = np.abs((np.asarray(run.straddling_losses, dtype=np.float64) - run.second_half_loss) / gap)
    draws = steps * batch
    most_straddling = straddling_allowance(run, draws, alpha)
    shift = most_straddling * float(straddling.max()) + steps * batch * loss_tolerance / abs(gap)
    deviations = counts - counts.mean()
    observed = float(deviations @ deviations)
    largest = float(np.abs(deviations).max())
    rounding = batch * loss_tolerance / abs(gap)
    delta = 2 * largest * shift + 2 * (shift - steps * rounding) ** 2 + 2 * steps * rounding**2
    _, high = sum_of_squares_limits(binomial_log_pmf(batch, p_near), batch * p_near, steps, alpha)
    chunks = max(run.length // (run.block_size + 1), batch)  # a short stream: a step may take every chunk
    first_chunks = round(p_far * chunks)
    low = min(
        sum_of_squares_limits(binomial_log_pmf(batch, p_far), batch * p_far, steps, alpha)[0],
        sum_of_squares_limits(
            hypergeometric_log_pmf(batch, first_chunks, chunks), batch * first_chunks / chunks, steps, alpha
        )[0],
    )
    total_deviation = max(
        chernoff_upper(draws, p_near, alpha) - draws * p_near, draws * p_near - chernoff_lower(draws, p_near, alpha)
    )
    low -= total_deviation**2 / steps
    unit = steps * batch * p_near * (1 - p_near)
    fits = math.isfinite(observed) and observed - delta - shift**2 / steps < high and observed + delta > low
    return SpreadVerdict(
        ratio=observed / unit,
        low=(low - delta) / unit,
        high=(high + delta + shift**2 / steps) / unit,
        fits=bool(fits),
    )
