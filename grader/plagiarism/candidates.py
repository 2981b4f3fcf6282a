"""Which pairs of a cohort are scored: every pair of a small cohort; in a large one, the pairs most linked by shared
fingerprints and by their units' nearest neighbours in embedding space (FAISS)."""

from __future__ import annotations

from dataclasses import dataclass

import faiss
import numpy as np
from scipy import sparse

from grader.plagiarism.units import CodeUnit


@dataclass
class UnitTable:
    """Per unit: the best similarity to each submission it was compared with, and a ceiling for all the others.

    The (unit, submission) entries are kept as one sorted array of keys unit * submissions + submission, so a whole
    cohort's pairs look theirs up at once.
    """

    keys: np.ndarray
    values: np.ndarray
    ceiling: np.ndarray  # similarity assumed for submissions not retrieved (FAISS mode); -1 when all were compared
    submissions: int

    @classmethod
    def of(cls, best: list[dict[int, float]], ceiling: np.ndarray, submissions: int) -> UnitTable:
        rows = np.repeat(np.arange(len(best)), [len(found) for found in best])
        targets = np.fromiter((submission for found in best for submission in found), np.int64, count=len(rows))
        values = np.fromiter((value for found in best for value in found.values()), float, count=len(rows))
        keys = rows * submissions + targets
        order = np.argsort(keys, kind="stable")
        return cls(keys[order], values[order], ceiling, submissions)

    def similarity(self, rows: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Each row's best similarity to its target submission, or its ceiling where the target was not retrieved."""
        wanted = rows * self.submissions + targets
        slots = np.minimum(np.searchsorted(self.keys, wanted), max(len(self.keys) - 1, 0))
        found = self.keys[slots] == wanted if len(self.keys) else np.zeros(len(wanted), bool)
        return np.where(found, self.values[slots] if len(self.keys) else 0.0, self.ceiling[rows])


def exhaustive_table(units: list[CodeUnit], vectors: np.ndarray, submissions: int) -> UnitTable:
    similarity = vectors @ vectors.T
    owner = np.array([unit.submission for unit in units])
    best: list[dict[int, float]] = [dict() for _ in units]
    for submission in sorted(set(owner.tolist())):
        columns = np.flatnonzero(owner == submission)
        column_best = similarity[:, columns].max(axis=1)
        for row, value in enumerate(column_best):
            if owner[row] != submission:
                best[row][submission] = float(value)
    return UnitTable.of(best, np.full(len(units), -1.0), submissions)


def faiss_table(
    units: list[CodeUnit], vectors: np.ndarray, neighbours: int, exact_up_to: int, submissions: int
) -> UnitTable:
    """Each unit's nearest `neighbours + 1` units, found by searching the distinct vectors only.

    Units that embed alike (one function many submissions kept unchanged, a renamed copy's units) share one vector:
    indexing it once keeps the index small, and its units are handed out in row order, the closest first, as a search
    over every unit would return them.
    """
    group_of: dict[bytes, int] = {}  # by the vector's bytes, in order of first appearance (np.unique over rows: 1.3 s)
    members: list[list[int]] = []
    for row, vector in enumerate(vectors):
        group = group_of.setdefault(vector.tobytes(), len(group_of))
        if group == len(members):
            members.append([])
        members[group].append(row)
    distinct = vectors[[rows[0] for rows in members]]
    if len(distinct) <= exact_up_to:
        index = faiss.IndexFlatIP(vectors.shape[1])
    else:
        index = faiss.IndexHNSWFlat(vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = max(64, 2 * neighbours)
    index.add(distinct)
    similarities, found = index.search(distinct, min(neighbours + 1, len(distinct)))
    owner = [unit.submission for unit in units]
    best: list[dict[int, float]] = [dict() for _ in units]
    ceiling = np.empty(len(units))
    for group, rows in enumerate(members):
        nearest: list[tuple[int, float]] = []  # (submission, similarity) of the closest units
        for column, value in zip(found[group].tolist(), similarities[group].tolist()):
            if column >= 0 and len(nearest) <= neighbours:
                nearest.extend((owner[row], value) for row in members[column][: neighbours + 1 - len(nearest)])
        for row in rows:
            for submission, value in nearest:
                if submission != owner[row] and value > best[row].get(submission, -1.0):
                    best[row][submission] = value
            ceiling[row] = nearest[-1][1] if nearest else -1.0
    return UnitTable.of(best, ceiling, submissions)


def candidate_pairs(
    table: UnitTable, units: list[CodeUnit], shared: sparse.csr_matrix, per_submission: int
) -> set[tuple[int, int]]:
    """The submissions most linked to each one: the fingerprints two share plus their units' best similarities."""
    owners = np.array([unit.submission for unit in units], np.int64)[table.keys // table.submissions]
    others = table.keys % table.submissions
    links = (
        shared + sparse.csr_matrix((np.maximum(table.values, 0.0), (owners, others)), shape=shared.shape)
    ).tocsr()  # duplicates add up
    links.sort_indices()  # ties go to the lower submission index
    pairs: set[tuple[int, int]] = set()
    for submission in range(links.shape[0]):
        start, end = links.indptr[submission], links.indptr[submission + 1]
        strongest = links.indices[start:end][np.argsort(-links.data[start:end], kind="stable")[:per_submission]]
        pairs.update((min(submission, other), max(submission, other)) for other in strongest.tolist())
    return pairs
