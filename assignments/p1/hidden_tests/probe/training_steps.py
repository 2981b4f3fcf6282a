"""p1's probe steps of train: step count, eval mode after, seeding, random windows (learning rate 0 on a two-token
stream), the time budget, and the graded training run with the held-out log-probabilities computed here."""

import math
import time

import grader_probe as gp
import numpy
import torch
import torch.nn.functional as F
from hidden_inputs import CORPUS_IDS, HELDOUT, ID_OF, QUICK_STEP_S, SLOW_STEP_S, SMALL_BLOCK, VOCAB_SIZE, windows
from remote_model import (
    default_model,
    logits_of,
    loss_numbers,
    small_model,
    weights_changed,
    weights_of,
    with_new_weights,
)

TRAINING_STEPS = 400
TRAINING_BUDGET_S = gp.budget("training")  # assignment.yaml's, for the device this run got
SHORT_BUDGET_S = 2.0
# train's windows, read from its losses (the judge's window_statistics): learning rate 0 on a stream whose halves are
# two tokens, long enough that windows straddling the middle are rare.
WINDOW_HALF = 2**18
# Large batches, as a step's fixed cost dominates on this small model: the share test counts windows (steps * batch);
# the batch-size test (spread of the per-step shares) needs many steps to tell batch_size from twice it.
WINDOW_STEPS = 800
WINDOW_BATCH = 64
WINDOW_TOKEN_PAIRS = tuple((token, token + 1) for token in range(1, 17, 2))


def window_losses(model, stream: torch.Tensor, starts: list[int]) -> list[float]:
    """The driver's own mean cross-entropy of each window of SMALL_BLOCK inputs (and next ids) at `starts`."""
    x = torch.stack([stream[start : start + SMALL_BLOCK] for start in starts])
    y = torch.stack([stream[start + 1 : start + SMALL_BLOCK + 1] for start in starts])
    logits = logits_of(model, x).double()
    return F.cross_entropy(logits.transpose(1, 2), y, reduction="none").mean(dim=1).tolist()


def two_halves(model) -> tuple[torch.Tensor, list[float]]:
    """Of WINDOW_TOKEN_PAIRS, the stream (first token, then second) whose first-half and second-half windows this
    model tells apart best relative to the straddling ones, and the losses of the first-half window, the
    second-half window and the SMALL_BLOCK straddling windows."""
    starts = [0, WINDOW_HALF, *range(WINDOW_HALF - SMALL_BLOCK, WINDOW_HALF)]
    best, best_score = None, -1.0
    for first, second in WINDOW_TOKEN_PAIRS:
        stream = torch.tensor([first] * WINDOW_HALF + [second] * WINDOW_HALF, dtype=torch.long)
        losses = window_losses(model, stream, starts)
        gap = losses[0] - losses[1]
        shares = [(loss - losses[1]) / gap for loss in losses[2:]] if gap else [math.inf]
        score = abs(gap) / (max(1.0, *shares) - min(0.0, *shares))
        if score > best_score:
            best, best_score = (stream, losses), score
    return best


def heldout_windows(block: int) -> tuple[torch.Tensor, torch.Tensor]:
    ids = torch.tensor([ID_OF[char] for char in HELDOUT], dtype=torch.long)
    count = (len(ids) - 1) // block
    return ids[: count * block].view(count, block).contiguous(), ids[1 : count * block + 1].view(
        count, block
    ).contiguous()


def heldout_evaluation(model) -> dict[str, numpy.ndarray]:
    """Log-probabilities of each next held-out character, computed here from the model's logits, plus a causality
    guard on the same windows: the inputs after a cut drawn anew for every grading are replaced, and the logits up
    to the cut must not change (a model that peeks at the next character would otherwise score a low loss)."""
    block = min(int(gp.fetch(model.config.block_size)), 256)
    x, y = heldout_windows(block)
    logits = logits_of(model, x)
    log_probs = F.log_softmax(logits, dim=-1).gather(-1, y.unsqueeze(-1)).squeeze(-1)
    generator = numpy.random.default_rng(gp.fresh_seed())
    cut = int(generator.integers(0, block - 1))
    changed = x.clone()
    changed[:, cut + 1 :] = torch.from_numpy(generator.integers(1, VOCAB_SIZE, size=(len(x), block - cut - 1)))
    guard = logits_of(model, changed)
    return {"log_probs": log_probs, "guard_difference": (guard[:, : cut + 1] - logits[:, : cut + 1]).abs().amax()}


def step_count(solution) -> None:
    with gp.step("training_steps", timeout_s=SLOW_STEP_S) as s:
        returned = solution.train(default_model(solution), CORPUS_IDS, max_steps=5, time_budget_s=60.0, seed=3)
        s.emit("losses", loss_numbers(returned))
        s.emit("loss_types", [type(loss).__name__ for loss in returned])


def training_mode(solution) -> None:
    with gp.step("training_mode", timeout_s=QUICK_STEP_S) as s:
        # With dropout, two forward passes agree only in eval mode, where train must leave the model.
        model = small_model(solution, dropout=0.5)
        loss_numbers(solution.train(model, CORPUS_IDS, max_steps=2, time_budget_s=60.0, seed=3))
        x = windows(2000, 2, SMALL_BLOCK)
        s.emit_array("after_first", logits_of(model, x))
        s.emit_array("after_second", logits_of(model, x))


def training_seed(solution) -> None:
    with gp.step("training_seed", timeout_s=SLOW_STEP_S) as s:
        initial = default_model(solution).state_dict()
        runs = {}
        for label, seed in (("first", 5), ("second", 5), ("other_seed", 6)):
            gp.scramble_random_state()
            model = default_model(solution)
            model.load_state_dict(initial)
            runs[label] = loss_numbers(solution.train(model, CORPUS_IDS, max_steps=4, time_budget_s=60.0, seed=seed))
        for label, losses in runs.items():
            s.emit(label, losses)


def training_windows(solution) -> None:
    with gp.step("training_windows", timeout_s=2 * SLOW_STEP_S) as s:
        # One layer: the test needs only losses that tell the two tokens apart, and a step's cost, paid 800 times,
        # is mostly per layer.
        model = small_model(solution, n_layer=1)
        with_new_weights(model, noise=0.2, keep=0.0)  # window losses that differ clearly between the two tokens
        model.eval()
        stream, losses = two_halves(model)
        before = weights_of(model)
        returned = solution.train(
            model,
            stream.tolist(),
            max_steps=WINDOW_STEPS,
            time_budget_s=SLOW_STEP_S,
            seed=gp.SEED,
            batch_size=WINDOW_BATCH,
            learning_rate=0.0,
        )
        s.emit("losses", loss_numbers(returned))
        s.emit("weights_changed", weights_changed(before, weights_of(model)))
        s.emit("batch_size", WINDOW_BATCH)
        s.emit("block_size", SMALL_BLOCK)
        s.emit("half", WINDOW_HALF)
        s.emit("length", len(stream))
        s.emit("first_half_loss", losses[0])
        s.emit("second_half_loss", losses[1])
        s.emit("straddling_losses", losses[2:])


def training_time(solution) -> None:
    with gp.step("training_time", timeout_s=QUICK_STEP_S) as s:
        model = default_model(solution)
        before = weights_of(model)
        started = time.perf_counter()
        returned = solution.train(model, CORPUS_IDS, max_steps=10**9, time_budget_s=SHORT_BUDGET_S, seed=3)
        s.emit("elapsed_s", time.perf_counter() - started)
        s.emit("budget_s", SHORT_BUDGET_S)
        s.emit("steps", len(loss_numbers(returned)))
        s.emit("weights_changed", weights_changed(before, weights_of(model)))


def training(solution) -> None:
    with gp.step("training", timeout_s=TRAINING_BUDGET_S + SLOW_STEP_S) as s:
        model = default_model(solution)
        model.eval()
        s.emit_array("log_probs_before", heldout_evaluation(model)["log_probs"])
        started = time.perf_counter()
        returned = solution.train(
            model,
            CORPUS_IDS,
            max_steps=TRAINING_STEPS,
            time_budget_s=TRAINING_BUDGET_S,
            seed=gp.SEED,
            device=gp.device(),
        )
        s.emit("elapsed_s", time.perf_counter() - started)
        s.emit("steps", len(loss_numbers(returned)))
        s.emit("max_steps", TRAINING_STEPS)
        model.eval()
        evaluation = heldout_evaluation(model)
        s.emit_array("log_probs_after", evaluation["log_probs"])
        s.emit("guard_difference", float(evaluation["guard_difference"]))


def run(solution) -> None:
    for step in (step_count, training_mode, training_seed, training_windows, training_time, training):
        step(solution)
