"""p1's hidden checks of generate: length, greedy decoding, top-k, seeding and the sampling distribution."""

import numpy as np
from expected import SAME_LOGITS, VOCABULARY
from scipy import stats

from grader.judge import Failed, ProbeData, StepData, check

RANK_TOLERANCE = 1e-4  # the probe recomputes logits; a token within this of the k-th largest counts as top-k
# Probability that a correct generate fails one sampling-distribution test (derivation at token_counts_fit).
SAMPLING_FALSE_FAILURE = 1e-6


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def sampling_probabilities(logits: np.ndarray, temperature: float, top_k: int | None) -> np.ndarray:
    """softmax(logits / temperature) over exactly the top_k largest logits (all of them without top_k)."""
    scaled = logits.astype(np.float64) / temperature
    if top_k is not None:
        scaled = np.where(scaled >= np.sort(scaled)[-top_k], scaled, -np.inf)
    return softmax(scaled)


def token_counts_fit(counts: np.ndarray, probabilities: np.ndarray) -> list[int]:
    """The tokens whose count is implausible under `probabilities` (empty: the sample fits).

    Exact binomial test of every token, both tails, Bonferroni over tokens. For a correct generate, draws made with
    distinct seeds are independent, so token i's count c_i over n draws is Binomial(n, p_i). A token fails when
    P[Binomial(n, p_i) <= c_i] <= a or P[Binomial(n, p_i) >= c_i] <= a, with a = SAMPLING_FALSE_FAILURE / (2V) for V
    tokens. Each of those 2V events has probability at most a under the correct distribution (the tail probability of
    the observed count is a p-value: P[p-value <= a] <= a, also for discrete counts), so by the union bound a correct
    generate fails with probability at most 2V * a = SAMPLING_FALSE_FAILURE = 1e-6, whatever the logits and however
    many draws. A token outside the top k has p_i = 0: a single draw of it fails. The probabilities are the driver's
    recomputation of the student's logits; float rounding moves them by ~1e-7, which moves each tail probability by a
    relative ~1e-4 at most at these draw counts.
    """
    alpha = SAMPLING_FALSE_FAILURE / (2 * len(probabilities))
    total = int(counts.sum())
    too_few = stats.binom.cdf(counts, total, probabilities) <= alpha
    too_many = stats.binom.sf(counts - 1, total, probabilities) <= alpha
    return [int(token) for token in np.flatnonzero(too_few | too_many)]


def sampling_distribution(step: StepData) -> None:
    """The step's samples follow softmax(next_logits / temperature) over its top_k (or all) tokens."""
    temperature, top_k = step.value("temperature"), step.value("top_k")
    expected = sampling_probabilities(step.array("next_logits"), temperature, top_k)
    samples = step.value("samples")
    if not ids_in_range(samples, len(expected)):
        raise Failed("sampled ids must be in range(vocab_size)")
    counts = np.bincount(samples, minlength=len(expected))
    wrong = token_counts_fit(counts, expected)
    if wrong:
        token = wrong[0]
        what = f"top_k={top_k}" if top_k is not None else "no top_k"
        raise Failed(
            f"{len(samples)} seeded draws at temperature {temperature:.3g} with {what} do not follow "
            f"softmax(logits / temperature){' over exactly the top_k most likely tokens' if top_k else ''}: "
            f"token {token} was drawn {counts[token]} times, about {expected[token] * len(samples):.0f} "
            f"expected (chance of this for a correct sampler: below {SAMPLING_FALSE_FAILURE:g})"
        )


def ids_in_range(ids: list, vocab_size: int) -> bool:
    return all(type(index) is int and 0 <= index < vocab_size for index in ids)


@check("generate_length")
def generate_length(probe: ProbeData) -> None:
    step = probe.step("generation_length")
    prompt, generated = step.value("prompt"), step.value("generated")
    if len(generated) != len(prompt) + step.value("max_new_tokens"):
        raise Failed(
            "generate must return the prompt followed by exactly max_new_tokens ids, "
            "also when that is longer than block_size"
        )
    if generated[: len(prompt)] != prompt or not ids_in_range(generated, len(VOCABULARY) + 1):
        raise Failed("generate must return the prompt unchanged, followed by ids in range(vocab_size)")


@check("generate_greedy")
def generate_greedy(probe: ProbeData) -> None:
    step = probe.step("generation_greedy")
    prompt, first = step.value("prompt"), step.value("first")
    if first != step.value("second"):
        raise Failed("with temperature 0 two calls gave different outputs: it must be greedy (argmax)")
    logits = step.array("logits")
    for position in range(len(prompt), len(first)):
        row = logits[position - 1]
        if not row[first[position]] >= row.max() - SAME_LOGITS:
            raise Failed("with temperature 0 a generated token was not the most likely one")


@check("generate_top_k")
def generate_top_k(probe: ProbeData) -> None:
    step = probe.step("generation_top_k")
    prompt_length, top_k = len(step.value("prompt")), step.value("top_k")
    outputs, logits = step.value("outputs"), step.array("logits")
    explored = False
    for output, sequence_logits in zip(outputs, logits):
        for position in range(prompt_length, len(output)):
            row = sequence_logits[position - 1]
            kth_largest = np.sort(row)[-top_k]
            if not row[output[position]] >= kth_largest - RANK_TOLERANCE:
                raise Failed("with top_k set, a token outside the k most likely ones was sampled")
            explored |= row[output[position]] < row.max() - RANK_TOLERANCE
    if not explored:
        raise Failed("with top_k > 1 and temperature > 0 only the most likely token was ever chosen")
    distribution = probe.step("generation_top_k_distribution")
    ranked = np.sort(distribution.array("next_logits"))[::-1]
    if not ranked[top_k - 1] - ranked[top_k] > RANK_TOLERANCE:
        raise Failed(
            f"the {top_k}-th and {top_k + 1}-th largest logits tie on every context tried: the model's "
            "logits hardly depend on its weights"
        )
    sampling_distribution(distribution)


@check("generate_sampling")
def generate_sampling(probe: ProbeData) -> None:
    seeded = probe.step("generation_seed")
    if seeded.value("first") != seeded.value("second"):
        raise Failed("the same seed gave different samples: generate must draw from a generator seeded with seed")
    if seeded.value("first") == seeded.value("other_seed"):
        raise Failed("different seeds gave the same samples")
    sampling_distribution(probe.step("generation_temperature"))
