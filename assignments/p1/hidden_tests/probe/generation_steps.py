"""p1's probe steps of generate: length, greedy decoding, top-k, seeding, and many seeded draws of one next token
for the judge's distribution tests."""

import math

import grader_probe as gp
import numpy
import torch
from hidden_inputs import CORPUS_IDS, QUICK_STEP_S, SLOW_STEP_S, SMALL_BLOCK, windows
from remote_model import ids_list, logits_of, small_model, with_new_weights

TOP_K = 3
# Draws per sampling distribution, one generate call each: the judge's false-failure bound holds for any number, more
# draws catch smaller departures.
SAMPLING_DRAWS = 600
SAMPLING_CONTEXTS = 32
# The driver picks each test's temperature so that the most likely token gets this probability (among the top k for
# the top-k test): spread enough that every count says something, and far from temperature 1 on these weights.
TEMPERATURE_TOP_MASS = 0.35
TOP_K_TOP_MASS = 0.6
PROMPT = CORPUS_IDS[200:205]


def sampling_context(model) -> tuple[list[int], numpy.ndarray]:
    """Of SAMPLING_CONTEXTS windows of the corpus, the one where the k-th and (k+1)-th largest next-token logits are
    farthest apart (which tokens are the top k is then no near tie), and its next-token logits, computed here."""
    contexts = windows(4000, SAMPLING_CONTEXTS, SMALL_BLOCK)
    last = logits_of(model, contexts)[:, -1].double().numpy()
    ranked = -numpy.sort(-last, axis=1)
    best = int(numpy.argmax(ranked[:, TOP_K - 1] - ranked[:, TOP_K]))
    return contexts[best].tolist(), last[best]


def temperature_for(logits: numpy.ndarray, top_mass: float, top_k: int | None = None) -> float:
    """The temperature at which the most likely token has probability `top_mass` (among the top k when given),
    found by bisection on log T; that probability falls as T rises."""
    kept = numpy.sort(logits)[::-1][:top_k] if top_k else logits
    low, high = math.log(1e-4), math.log(1e4)
    for _ in range(60):
        middle = (low + high) / 2
        weights = numpy.exp((kept - kept.max()) / math.exp(middle))
        low, high = (middle, high) if 1 / weights.sum() > top_mass else (low, middle)
    return math.exp((low + high) / 2)


def sampled_tokens(solution, model, context: list[int], temperature: float, top_k: int | None) -> list[int]:
    """SAMPLING_DRAWS next tokens after `context`, one generate call per seed."""
    return [
        ids_list(solution.generate(model, context, 1, temperature=temperature, top_k=top_k, seed=seed))[-1]
        for seed in range(SAMPLING_DRAWS)
    ]


def generation_length(solution) -> None:
    with gp.step("generation_length", timeout_s=QUICK_STEP_S) as s:
        model = small_model(solution)
        model.eval()
        s.emit("prompt", PROMPT)
        s.emit("max_new_tokens", 3 * SMALL_BLOCK)
        s.emit("generated", solution.generate(model, PROMPT, 3 * SMALL_BLOCK, temperature=1.0, seed=11))


def generation_greedy(solution) -> None:
    with gp.step("generation_greedy", timeout_s=QUICK_STEP_S) as s:
        model = small_model(solution)
        model.eval()
        first = solution.generate(model, PROMPT, SMALL_BLOCK - len(PROMPT), temperature=0.0, seed=1)
        gp.scramble_random_state()
        second = solution.generate(model, PROMPT, SMALL_BLOCK - len(PROMPT), temperature=0.0, seed=2)
        s.emit("prompt", PROMPT)
        s.emit("first", first)
        s.emit("second", second)
        s.emit_array("logits", logits_of(model, torch.tensor([ids_list(first)[:-1]], dtype=torch.long))[0])


def generation_top_k(solution) -> None:
    with gp.step("generation_top_k", timeout_s=QUICK_STEP_S) as s:
        model = small_model(solution)
        model.eval()
        outputs = [
            ids_list(
                solution.generate(model, PROMPT, SMALL_BLOCK - len(PROMPT), temperature=2.0, top_k=TOP_K, seed=seed)
            )
            for seed in range(20)
        ]
        s.emit("prompt", PROMPT)
        s.emit("top_k", TOP_K)
        s.emit("outputs", outputs)
        s.emit_array("logits", logits_of(model, torch.tensor([output[:-1] for output in outputs], dtype=torch.long)))


def generation_seed(solution) -> None:
    with gp.step("generation_seed", timeout_s=QUICK_STEP_S) as s:
        model = small_model(solution)
        model.eval()
        s.emit("first", solution.generate(model, PROMPT, 30, temperature=1.0, seed=21))
        gp.scramble_random_state()
        s.emit("second", solution.generate(model, PROMPT, 30, temperature=1.0, seed=21))
        s.emit("other_seed", solution.generate(model, PROMPT, 30, temperature=1.0, seed=22))


# Distribution tests: many seeded draws of one next token, against probabilities the driver computes from the same
# model's logits. Weights moved away from the student's initialisation give logits that differ clearly.
def distributions(solution) -> None:
    for name, top_mass, top_k in (
        ("generation_temperature", TEMPERATURE_TOP_MASS, None),
        ("generation_top_k_distribution", TOP_K_TOP_MASS, TOP_K),
    ):
        with gp.step(name, timeout_s=2 * SLOW_STEP_S) as s:
            model = small_model(solution)
            with_new_weights(model, noise=0.05)
            model.eval()
            context, next_logits = sampling_context(model)
            temperature = temperature_for(next_logits, top_mass, top_k)
            s.emit("temperature", temperature)
            s.emit("top_k", top_k)
            s.emit_array("next_logits", next_logits)
            s.emit("samples", sampled_tokens(solution, model, context, temperature, top_k))


def run(solution) -> None:
    for step in (generation_length, generation_greedy, generation_top_k, generation_seed, distributions):
        step(solution)
