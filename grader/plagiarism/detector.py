"""The detector: fingerprints and unit embeddings of every submission, candidate pairs, channel scores, one calibrated score."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field, replace
from functools import partial

import faiss
import numpy as np
from scipy import sparse

from grader.plagiarism.calibration import Calibration
from grader.plagiarism.embeddings import EmbeddingCache, Encoder, embed_texts
from grader.plagiarism.fingerprints import FingerprintSettings, TokenMatch, code_fingerprints, compare, fingerprint_all, pair_similarities, shared_counts, starter_hashes, units_fingerprint
from grader.plagiarism.identifiers import identifier_counts, pair_cosines, tfidf_matrix
from grader.plagiarism.submissions import Skipped, SourceFile, Submission
from grader.plagiarism.token_filter import CACHE_SALT, literal_filter
from grader.plagiarism.units import CodeUnit, api_names_of, submission_units
from grader.plagiarism.workcache import WorkCache, parallel_map


@dataclass(frozen=True)
class DetectorSettings:
    fingerprints: FingerprintSettings = FingerprintSettings()
    exhaustive_up_to: int = 150  # cohorts up to this size compare every pair exactly; larger ones go through FAISS
    neighbours: int = 12  # nearest units looked up per unit in FAISS mode
    # Up to this many distinct unit vectors FAISS searches exactly: faster than building an HNSW graph (measured here:
    # 4 s against 14 s for 23,000 vectors) and it misses nothing; beyond, HNSW keeps the search close to linear.
    exact_search_up_to: int = 30_000
    candidates_per_submission: int = 12  # in FAISS mode, the submissions most linked to each one are scored
    min_unit_size: int = 12  # AST nodes; smaller units (one-line getters) say nothing about copying
    flag_threshold: float | None = None  # score from which a pair is flagged and joins clusters; None: the calibration's
    relative_partners: int = 12  # a pair is set against each side's closest other partners, at most this many
    relative_spread_floor: float = 0.05  # least spread assumed among those partners, so a flat neighbourhood does not inflate
    report_top: int = 200  # pairs listed besides every flagged pair
    side_by_side: int = 25  # top pairs whose matching regions are located, for the report's side-by-side view
    # From this many listed pairs, their details (unit matches, drivers, copied regions) are found in forked workers.
    parallel_pairs_from: int = 2000


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


@dataclass(frozen=True)
class PairResult:
    a: str
    b: str
    a_origin: str
    b_origin: str
    score: float
    percentile: float  # share of the cohort's pairs that score lower
    channels: dict[str, float]
    relative: dict[str, float]  # per channel: standard deviations above both sides' other closest partners (mean of the two)
    driver: str  # the feature that moved the score most
    unit_matches: tuple[UnitMatch, ...]
    tokens: TokenMatch | None  # where the copied code lies: for the top pairs only, which the report shows side by side

    @property
    def features(self) -> dict[str, float]:
        return calibration_features(self.channels, self.relative)


def calibration_features(channels: dict[str, float], relative: dict[str, float]) -> dict[str, float]:
    """What the calibration weighs: the raw channels, how far each stands out for this pair on a log scale, and how
    much of the authors' own naming both texts kept.

    A pair 10 standard deviations above its partners is not ten times the evidence of one at 1: in a small or flat
    neighbourhood the spread is tiny and the deviations grow without bound. Taken linearly, they lifted textbook twins
    (raw channels 0.3-0.6) above exact copies; log1p keeps their order and damps the extremes.

    kept_names is the lesser of the literal token runs and the rare identifiers shared. Code copied and then
    restructured keeps both its author's names and, between the edits, their order; two solutions of one textbook
    recipe share some of the recipe's names or some of its runs, seldom much of both.
    """
    kept_names = {"kept_names": min(channels["literal_token"], channels["identifiers"])} if {"literal_token", "identifiers"} <= channels.keys() else {}
    return {**channels, **kept_names, **{f"{name}_relative": math.copysign(math.log1p(abs(value)), value) for name, value in relative.items()}}


@dataclass
class Detection:
    submissions: list[Submission]
    pairs: list[PairResult]
    clusters: list[list[str]]
    skipped: list[Skipped]
    all_scores: list[float]  # every scored pair, for the histogram
    flag_threshold: float  # the score from which pairs were flagged
    stats: dict[str, float] = field(default_factory=dict)


@dataclass
class _UnitTable:
    """Per unit: the best similarity to each submission it was compared with, and a ceiling for all the others.

    The (unit, submission) entries are kept as one sorted array of keys unit * submissions + submission, so a whole
    cohort's pairs look theirs up at once.
    """

    keys: np.ndarray
    values: np.ndarray
    ceiling: np.ndarray  # similarity assumed for submissions not retrieved (FAISS mode); -1 when all were compared
    submissions: int

    @classmethod
    def of(cls, best: list[dict[int, float]], ceiling: np.ndarray, submissions: int) -> _UnitTable:
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


def _exhaustive_table(units: list[CodeUnit], vectors: np.ndarray, submissions: int) -> _UnitTable:
    similarity = vectors @ vectors.T
    owner = np.array([unit.submission for unit in units])
    best: list[dict[int, float]] = [dict() for _ in units]
    for submission in sorted(set(owner.tolist())):
        columns = np.flatnonzero(owner == submission)
        column_best = similarity[:, columns].max(axis=1)
        for row, value in enumerate(column_best):
            if owner[row] != submission:
                best[row][submission] = float(value)
    return _UnitTable.of(best, np.full(len(units), -1.0), submissions)


def _faiss_table(units: list[CodeUnit], vectors: np.ndarray, neighbours: int, exact_up_to: int, submissions: int) -> _UnitTable:
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
    return _UnitTable.of(best, ceiling, submissions)


def _candidate_pairs(table: _UnitTable, units: list[CodeUnit], shared: sparse.csr_matrix, per_submission: int) -> set[tuple[int, int]]:
    """The submissions most linked to each one: the fingerprints two share plus their units' best similarities."""
    owners = np.array([unit.submission for unit in units], np.int64)[table.keys // table.submissions]
    others = table.keys % table.submissions
    links = (shared + sparse.csr_matrix((np.maximum(table.values, 0.0), (owners, others)), shape=shared.shape)).tocsr()  # duplicates add up
    links.sort_indices()  # ties go to the lower submission index
    pairs: set[tuple[int, int]] = set()
    for submission in range(links.shape[0]):
        start, end = links.indptr[submission], links.indptr[submission + 1]
        strongest = links.indices[start:end][np.argsort(-links.data[start:end], kind="stable")[:per_submission]]
        pairs.update((min(submission, other), max(submission, other)) for other in strongest.tolist())
    return pairs


def _directions(pairs: list[tuple[int, int]], rows_of: dict[int, list[int]], units: list[CodeUnit], table: _UnitTable) -> np.ndarray:
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


def _unit_matches(rows_a: list[int], rows_b: list[int], units: list[CodeUnit], vectors: np.ndarray, limit: int = 5) -> tuple[UnitMatch, ...]:
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
            UnitMatch(unit_a.label, (unit_a.first_line, unit_a.last_line), unit_a.file, unit_b.label, (unit_b.first_line, unit_b.last_line), unit_b.file, float(values[position]))
        )
    return tuple(matches)


def relative_channels(pairs: list[tuple[int, int]], channels: list[dict[str, float]], partners: int, floor: float, not_partners: frozenset[int] = frozenset()) -> list[dict[str, float]]:
    """Per pair and channel: how far the pair lies above what each side shares with its other closest partners.

    Independent solutions that follow the same textbook recipe score high on every channel, but so does each of them
    with the others that follow it; a copy stands out from the copier's and the source's usual neighbours. Only the
    closest `partners` count, so an exhaustive cohort and a FAISS-candidate one (which scores about that many pairs
    per submission) are measured alike. The cost is linear in the scored pairs. A pair where a side has fewer than two
    other partners gets no relative features (too few to say what is usual; the calibration's fallback scores it).
    Neither does a pair with a side in not_partners: such a submission is nobody's partner.
    """
    counted = [first not in not_partners and second not in not_partners for first, second in pairs]
    by_submission: dict[int, list[int]] = defaultdict(list)
    for position, (first, second) in enumerate(pairs):
        if counted[position]:
            by_submission[first].append(position)
            by_submission[second].append(position)
    known = [counted[position] and min(len(by_submission[first]), len(by_submission[second])) > 2 for position, (first, second) in enumerate(pairs)]
    result: list[dict[str, float]] = [{} for _ in pairs]
    for name in channels[0] if channels else ():
        value = [entry[name] for entry in channels]
        # Each side's partners as one row; rows of one length are standardised together (numpy's per-row mean and std
        # are those of the row alone, so batching changes no bit, and a call per side was most of the scoring time).
        rows: dict[int, tuple[list[int], list[list[float]]]] = defaultdict(lambda: ([], []))
        for positions in by_submission.values():
            closest = sorted(positions, key=value.__getitem__, reverse=True)[: partners + 1]
            for position in positions:
                if known[position]:
                    others = [value[other] for other in closest if other != position][:partners]
                    rows[len(others)][0].append(position)
                    rows[len(others)][1].append(others)
        total = np.zeros(len(pairs))
        for owners, partner_values in rows.values():
            matrix = np.array(partner_values)
            standardised = (np.array(value)[owners] - matrix.mean(axis=1)) / np.maximum(matrix.std(axis=1), floor)
            np.add.at(total, owners, standardised)  # each known pair gets exactly two sides
        for position in np.flatnonzero(known):
            result[position][name] = float(total[position] / 2)
    return result


def _clusters(pairs: list[PairResult], threshold: float) -> list[list[str]]:
    parent: dict[str, str] = {}

    def root(name: str) -> str:
        while parent.setdefault(name, name) != name:
            parent[name] = parent[parent[name]]  # path halving: thousands of flagged pairs stay near linear
            name = parent[name]
        return name

    for pair in pairs:
        if pair.score >= threshold:
            parent[root(pair.a)] = root(pair.b)
    groups: dict[str, list[str]] = defaultdict(list)
    for name in parent:
        groups[root(name)].append(name)
    return sorted((sorted(group) for group in groups.values() if len(group) >= 3), key=len, reverse=True)


def detect(
    cohort: list[Submission],
    archives: list[Submission],
    starter: list[SourceFile],
    skipped: list[Skipped],
    encoder: Encoder,
    cache: EmbeddingCache | None,
    calibration: Calibration,
    settings: DetectorSettings = DetectorSettings(),
) -> Detection:
    submissions = cohort + archives
    work = WorkCache(cache.folder if cache is not None else None)  # per-submission results: computed in parallel, kept by content
    starter_code = [source.code for source in starter]
    api_names = api_names_of(starter_code)
    codes = [submission.code for submission in submissions]
    fingerprinted = work.map(partial(code_fingerprints, settings=settings.fingerprints), codes, salt=CACHE_SALT)
    fingerprints = fingerprint_all([renamed for renamed, _ in fingerprinted], len(cohort), starter_hashes(starter_code, settings.fingerprints), settings.fingerprints)
    literal_starter = starter_hashes(starter_code, settings.fingerprints, literal_filter)
    literal_fingerprints = fingerprint_all([literal for _, literal in fingerprinted], len(cohort), literal_starter, settings.fingerprints)

    starter_units = [unit for source in starter for unit in submission_units(-1, Submission("starter", "starter", (source,)), api_names)]
    starter_canonical = {unit.canonical for unit in starter_units}
    units = [
        replace(unit, submission=index)
        for index, found in enumerate(work.map(partial(submission_units, 0, api_names=api_names), submissions))
        for unit in found
        if unit.size >= settings.min_unit_size and unit.canonical not in starter_canonical
    ]
    # The same winnowing over canonical forms: renamed, re-spelled (np.matmul -> @) and dead-code-padded copies line up.
    rows_of: dict[int, list[int]] = defaultdict(list)
    for row, unit in enumerate(units):
        rows_of[unit.submission].append(row)
    canonical_parts = [tuple(units[row].canonical for row in rows_of[index]) for index in range(len(submissions))]
    canonical_fingerprinted = work.map(partial(units_fingerprint, settings=settings.fingerprints), canonical_parts, salt=CACHE_SALT)
    canonical_starter = starter_hashes([unit.canonical for unit in starter_units], settings.fingerprints)
    canonical_fingerprints = fingerprint_all(canonical_fingerprinted, len(cohort), canonical_starter, settings.fingerprints)
    raw_vectors, computed = embed_texts([unit.canonical for unit in units], encoder, cache)
    vectors = centred(raw_vectors, units, len(cohort))
    exhaustive = len(cohort) <= settings.exhaustive_up_to
    table = _exhaustive_table(units, vectors, len(submissions)) if exhaustive else _faiss_table(units, vectors, settings.neighbours, settings.exact_search_up_to, len(submissions))
    starter_tokens = frozenset(name for code in starter_code for name in identifier_counts(code, frozenset()))
    names = tfidf_matrix(work.map(partial(identifier_counts, ignored=starter_tokens | api_names), codes, salt=CACHE_SALT), len(cohort))

    if exhaustive:
        candidates = {(first, second) for first in range(len(submissions)) for second in range(first + 1, len(submissions))}
    else:
        shared = shared_counts(fingerprints)
        candidates = _candidate_pairs(table, units, shared, settings.candidates_per_submission)
    candidates = {(first, second) for first, second in candidates if first < len(cohort)}  # archives are not compared with each other

    ordered = sorted(candidates)
    by_channel = {
        "token": pair_similarities(fingerprints, ordered).max(axis=1),
        "canonical_token": pair_similarities(canonical_fingerprints, ordered).max(axis=1),
        "literal_token": pair_similarities(literal_fingerprints, ordered).max(axis=1),
        "identifiers": pair_cosines(names, ordered),
        "semantic": _directions(ordered, rows_of, units, table).max(axis=1),
    }
    channels = [dict(zip(by_channel, values)) for values in zip(*(column.tolist() for column in by_channel.values()))]
    # A submission with nothing of its own (the starter handed back) says nothing about what two real solutions
    # usually share: as a partner it would make every real pair stand out.
    empty = frozenset(index for index in range(len(submissions)) if not rows_of[index] and len(fingerprints[index].hashes) == 0)
    relative = relative_channels(ordered, channels, settings.relative_partners, settings.relative_spread_floor, not_partners=empty)
    scores = [calibration.score(calibration_features(pair_channels, pair_relative)) for pair_channels, pair_relative in zip(channels, relative)]
    ranking = sorted(range(len(ordered)), key=scores.__getitem__, reverse=True)
    total_pairs = len(cohort) * (len(cohort) - 1) // 2 + len(cohort) * len(archives)

    def explained(ranked: tuple[int, int]) -> PairResult:
        """A listed pair with what explains it in the report: found for these pairs only, not for every candidate."""
        rank, position = ranked
        first, second = ordered[position]
        contributions = calibration.contributions(calibration_features(channels[position], relative[position]))
        return PairResult(
            a=submissions[first].name,
            b=submissions[second].name,
            a_origin=submissions[first].origin,
            b_origin=submissions[second].origin,
            score=scores[position],
            percentile=1.0 - (rank + 1) / max(total_pairs, 1),
            channels=channels[position],
            relative=relative[position],
            driver=max(contributions, key=contributions.__getitem__),
            unit_matches=_unit_matches(rows_of[first], rows_of[second], units, vectors),
            tokens=compare(fingerprints[first], fingerprints[second]) if rank < settings.side_by_side else None,
        )

    threshold = calibration.flag_threshold if settings.flag_threshold is None else settings.flag_threshold
    to_list = [(rank, position) for rank, position in enumerate(ranking) if rank < settings.report_top or scores[position] >= threshold]
    listed = parallel_map(explained, to_list, parallel_from=settings.parallel_pairs_from)
    return Detection(
        submissions=submissions,
        pairs=listed,
        clusters=_clusters(listed, threshold),  # every flagged pair is listed
        skipped=skipped,
        all_scores=[scores[position] for position in ranking],
        flag_threshold=threshold,
        stats={"units": len(units), "embedded_now": computed, "pairs_scored": len(ranking), "pairs_possible": total_pairs, "exhaustive": float(exhaustive)},
    )
