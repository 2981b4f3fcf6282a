"""p3's hidden checks of VectorIndex on the probe's random vectors: exact top-k results, and search and add times
the driver measured with its own clock."""

import numpy as np
from records import SCORE_TOLERANCE, K

from grader.judge import Failed, ProbeData, check

LATENCY_VECTORS = 10_000
LATENCY_QUERIES = 50
LATENCY_DIM = 384
QUERY_S_P20_MAX = 0.25  # the 20th percentile: robust to a busy machine, still well below a Python loop
ADD_S_MAX = 5.0


def latency_data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The probe's random unit vectors and queries, regenerated from the seed it drew for this grading."""
    generator = np.random.default_rng(seed)

    def unit_rows(count: int) -> np.ndarray:
        rows = generator.standard_normal((count, LATENCY_DIM)).astype(np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    vectors = unit_rows(LATENCY_VECTORS)
    return vectors, unit_rows(LATENCY_QUERIES)


@check("latency_results_correct")
def latency_results_correct(probe: ProbeData) -> None:
    step = probe.step("latency")
    ids, scores = step.array("ids"), step.array("scores")
    if ids.shape != (LATENCY_QUERIES, K) or scores.shape != (LATENCY_QUERIES, K):
        raise Failed(f"VectorIndex.search did not answer every query with {K} results in time")
    seed = step.value("seed")
    if type(seed) is not int or seed < 0:
        raise Failed("the latency test's data could not be regenerated")
    vectors, queries = latency_data(seed)
    if ids.min() < 0 or ids.max() >= LATENCY_VECTORS:
        raise Failed("VectorIndex.search returned ids that are not positions of added vectors")
    similarities = queries @ vectors.T
    best = -np.sort(-similarities, axis=1)[:, :K]
    true_scores = np.take_along_axis(similarities, ids.astype(np.int64), axis=1)
    if not (np.allclose(scores, true_scores, atol=SCORE_TOLERANCE) and np.allclose(scores, best, atol=SCORE_TOLERANCE)):
        raise Failed("VectorIndex.search did not return the k vectors with the highest inner product, best first")


@check("latency_within_budget")
def latency_within_budget(probe: ProbeData) -> None:
    step = probe.step("latency")
    query_s = step.array("query_s")
    if query_s.shape != (LATENCY_QUERIES,):
        raise Failed("VectorIndex.search was too slow: not every query was answered in the time given")
    typical = float(np.quantile(query_s, 0.2))
    add_s = step.value("add_s")
    if type(add_s) is not float or add_s > ADD_S_MAX:
        raise Failed("VectorIndex.add was too slow for 10,000 vectors")
    if typical > QUERY_S_P20_MAX:
        raise Failed(
            "VectorIndex.search over 10,000 vectors was too slow: search with one matrix operation "
            "(numpy or FAISS), not a Python loop over the vectors"
        )
