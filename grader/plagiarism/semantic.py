"""The semantic channel: code units embedded, centred on what the cohort's units of the same kind share, and each
side of a pair measured by how closely its units find a match on the other side."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from grader.plagiarism.candidates import UnitTable
from grader.plagiarism.units import CodeUnit

CENTRED_NOISE = 1e-4  # below this length a centred embedding is rounding, not a difference


@dataclass(frozen=True)
class UnitMatch:
    unit_a: str
    lines_a: tuple[int, int]
    file_a: str
    unit_b: str
    lines_b: tuple[int, int]
    file_b: str
    similarity: float  # cosine of the cohort-centred embeddings


def centred(vectors: np.ndarray, units: list[CodeUnit], cohort: int, min_sources: int = 3) -> np.ndarray:
    """Embeddings minus what the cohort's units of the same kind share, renormalised.

    Independent solutions of one task embed almost alike (cosine ~0.95): the task dominates the vector. Subtracting the
    mean of the same function across the cohort (or of all the cohort's units, for kinds too rare to average) leaves how
    this solution differs. A mean needs units from min_sources submissions; without one there is no telling a shared
    task from a shared solution, so the unit gets no vector (similarity 0) and the other channels decide.
    """
    if len(units) == 0:
        return vectors
    in_cohort = np.array([unit.submission < cohort for unit in units])

    def reference(rows: list[int]) -> np.ndarray | None:
        cohort_rows = [row for row in rows if in_cohort[row]]
        if len({units[row].submission for row in cohort_rows}) < min_sources:
            return None
        return vectors[cohort_rows].mean(axis=0)

    overall = reference(list(range(len(units))))
    by_label: dict[str, list[int]] = defaultdict(list)
    for row, unit in enumerate(units):
        by_label[unit.label].append(row)
    result = np.zeros_like(vectors)
    for rows in by_label.values():
        mean = reference(rows)
        mean = overall if mean is None else mean
        if mean is not None:
            result[rows] = vectors[rows] - mean
    lengths = np.linalg.norm(result, axis=1, keepdims=True)
    # A unit equal to its mean (every holder of the function handed in the same text) keeps only float32 rounding
    # (~1e-8), which normalised would be a random direction: it gets no vector either. Real differences are >= ~0.05.
    return np.where(lengths > CENTRED_NOISE, result / np.maximum(lengths, CENTRED_NOISE), 0.0)


def semantic_similarities(
    pairs: list[tuple[int, int]], rows_of: dict[int, list[int]], units: list[CodeUnit], table: UnitTable
) -> np.ndarray:
    """Per pair and side: the size-weighted mean similarity of that side's units to their best match in the other side
    (0 for a side without units), as a (pairs, 2) array."""
    if not pairs:
        return np.zeros((0, 2))
    ends = np.array(pairs, dtype=np.int64)
    owners, others = np.concatenate([ends[:, 0], ends[:, 1]]), np.concatenate([ends[:, 1], ends[:, 0]])
    lengths = np.array([len(rows_of[owner]) for owner in owners.tolist()])
    rows = np.concatenate([np.array(rows_of[owner], np.int64) for owner in owners.tolist()])
    side = np.repeat(np.arange(len(owners)), lengths)
    weights = np.array([unit.size for unit in units], dtype=float)[rows]
    similarity = table.similarity(rows, np.repeat(others, lengths))
    total = np.bincount(side, weights=weights, minlength=len(owners))
    weighted = np.bincount(side, weights=weights * similarity, minlength=len(owners))
    return np.divide(weighted, total, out=np.zeros(len(owners)), where=total > 0).reshape(2, -1).T


def unit_matches(
    rows_a: list[int], rows_b: list[int], units: list[CodeUnit], vectors: np.ndarray, limit: int = 5
) -> tuple[UnitMatch, ...]:
    """Each of a's units with its most similar unit of b (one matrix product per pair), the best few first."""
    if not rows_a or not rows_b:
        return ()
    similarities = vectors[rows_a] @ vectors[rows_b].T
    best = similarities.argmax(axis=1)
    values = similarities[np.arange(len(rows_a)), best]
    matches = []
    for position in np.argsort(-values, kind="stable")[:limit].tolist():  # ties keep a's order
        unit_a, unit_b = units[rows_a[position]], units[rows_b[best[position]]]
        matches.append(
            UnitMatch(
                unit_a.label,
                (unit_a.first_line, unit_a.last_line),
                unit_a.file,
                unit_b.label,
                (unit_b.first_line, unit_b.last_line),
                unit_b.file,
                float(values[position]),
            )
        )
    return tuple(matches)
