"""The detector: fingerprints and unit embeddings of every submission, candidate pairs, channel scores, one calibrated score."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from functools import partial

import numpy as np

from grader.plagiarism.calibration import Calibration, calibration_features
from grader.plagiarism.candidates import UnitTable, candidate_pairs, exhaustive_table, faiss_table
from grader.plagiarism.embeddings import EmbeddingCache, Encoder, embed_texts
from grader.plagiarism.fingerprints import (
    Fingerprint,
    FingerprintSettings,
    TokenMatch,
    code_fingerprints,
    compare,
    known_hashes,
    pair_similarities,
    shared_counts,
    units_fingerprint,
    without_boilerplate,
)
from grader.plagiarism.identifiers import identifier_counts, pair_cosines, tfidf_matrix
from grader.plagiarism.known_code import KnownCode
from grader.plagiarism.relative import relative_channels
from grader.plagiarism.semantic import UnitMatch, centred, semantic_similarities, unit_matches
from grader.plagiarism.submissions import Skipped, SubmittedCode
from grader.plagiarism.token_filter import CACHE_SALT, literal_filter
from grader.plagiarism.units import CodeUnit, submission_units
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
    flag_threshold: float | None = (
        None  # score from which a pair is flagged and joins clusters; None: the calibration's
    )
    relative_partners: int = 12  # a pair is set against each side's closest other partners, at most this many
    relative_spread_floor: float = (
        0.05  # least spread assumed among those partners, so a flat neighbourhood does not inflate
    )
    report_top: int = 200  # pairs listed besides every flagged pair
    side_by_side: int = 25  # top pairs whose matching regions are located, for the report's side-by-side view
    # From this many listed pairs, their details (unit matches, drivers, copied regions) are found in forked workers.
    parallel_pairs_from: int = 2000


@dataclass(frozen=True)
class PairResult:
    a: str
    b: str
    a_origin: str
    b_origin: str
    score: float
    percentile: float  # share of the cohort's pairs that score lower
    channels: dict[str, float]
    relative: dict[
        str, float
    ]  # per channel: standard deviations above both sides' other closest partners (mean of the two)
    driver: str  # the feature that moved the score most
    unit_matches: tuple[UnitMatch, ...]
    tokens: TokenMatch | None  # where the copied code lies: for the top pairs only, which the report shows side by side

    @property
    def features(self) -> dict[str, float]:
        return calibration_features(self.channels, self.relative)


@dataclass
class Detection:
    submissions: list[SubmittedCode]
    pairs: list[PairResult]
    clusters: list[list[str]]
    skipped: list[Skipped]
    all_scores: list[float]  # every scored pair, for the histogram
    flag_threshold: float  # the score from which pairs were flagged
    stats: dict[str, float] = field(default_factory=dict)


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


@dataclass
class _Evidence:
    """What detect() computes per submission before any pair is scored."""

    fingerprints: list[Fingerprint]  # renamed tokens
    literal_fingerprints: list[Fingerprint]  # tokens with their names spelled out
    canonical_fingerprints: list[Fingerprint]  # the canonical forms of the code units
    units: list[CodeUnit]
    rows_of: dict[int, list[int]]  # each submission's rows in units
    vectors: np.ndarray  # the units' centred embeddings
    table: UnitTable  # each unit's best similarity per other submission
    names: object  # the rare-identifier tf-idf matrix
    embedded_now: int


def _gather_evidence(
    submissions: list[SubmittedCode],
    cohort_size: int,
    known: KnownCode,
    encoder: Encoder,
    cache: EmbeddingCache | None,
    settings: DetectorSettings,
) -> _Evidence:
    work = WorkCache(
        cache.folder if cache is not None else None
    )  # per-submission results: computed in parallel, kept by content
    prints = settings.fingerprints
    known_code = known.codes
    api_names = known.api_names
    codes = [submission.code for submission in submissions]
    fingerprinted = work.map(partial(code_fingerprints, settings=prints), codes, salt=CACHE_SALT)
    fingerprints = without_boilerplate(
        [renamed for renamed, _ in fingerprinted], cohort_size, known_hashes(known_code, prints), prints
    )
    literal_fingerprints = without_boilerplate(
        [literal for _, literal in fingerprinted],
        cohort_size,
        known_hashes(known_code, prints, literal_filter),
        prints,
    )

    known_units = [
        unit
        for source in known.files
        for unit in submission_units(-1, SubmittedCode("known", "known", (source,)), api_names)
    ]
    known_canonical = {unit.canonical for unit in known_units}
    units = [
        replace(unit, submission=index)
        for index, found in enumerate(work.map(partial(submission_units, 0, api_names=api_names), submissions))
        for unit in found
        if unit.size >= settings.min_unit_size and unit.canonical not in known_canonical
    ]
    rows_of: dict[int, list[int]] = defaultdict(list)
    for row, unit in enumerate(units):
        rows_of[unit.submission].append(row)
    # The same winnowing over canonical forms: renamed, re-spelled (np.matmul -> @) and dead-code-padded copies line up.
    canonical_parts = [tuple(units[row].canonical for row in rows_of[index]) for index in range(len(submissions))]
    canonical_fingerprinted = work.map(partial(units_fingerprint, settings=prints), canonical_parts, salt=CACHE_SALT)
    canonical_fingerprints = without_boilerplate(
        canonical_fingerprinted, cohort_size, known_hashes([unit.canonical for unit in known_units], prints), prints
    )

    raw_vectors, embedded_now = embed_texts([unit.canonical for unit in units], encoder, cache)
    vectors = centred(raw_vectors, units, cohort_size)
    if cohort_size <= settings.exhaustive_up_to:
        table = exhaustive_table(units, vectors, len(submissions))
    else:
        table = faiss_table(units, vectors, settings.neighbours, settings.exact_search_up_to, len(submissions))
    known_tokens = frozenset(name for code in known_code for name in identifier_counts(code, frozenset()))
    names = tfidf_matrix(
        work.map(partial(identifier_counts, ignored=known_tokens | api_names), codes, salt=CACHE_SALT), cohort_size
    )
    return _Evidence(
        fingerprints, literal_fingerprints, canonical_fingerprints, units, rows_of, vectors, table, names, embedded_now
    )


def _pairs_to_score(
    evidence: _Evidence, submissions: int, cohort_size: int, settings: DetectorSettings
) -> list[tuple[int, int]]:
    """Every pair of a small cohort; the most linked ones of a large cohort. Archives are not compared with each other."""
    if cohort_size <= settings.exhaustive_up_to:
        candidates = {(first, second) for first in range(submissions) for second in range(first + 1, submissions)}
    else:
        candidates = candidate_pairs(
            evidence.table, evidence.units, shared_counts(evidence.fingerprints), settings.candidates_per_submission
        )
    return sorted((first, second) for first, second in candidates if first < cohort_size)


def _channel_scores(evidence: _Evidence, pairs: list[tuple[int, int]]) -> list[dict[str, float]]:
    by_channel = {
        "token": pair_similarities(evidence.fingerprints, pairs).max(axis=1),
        "canonical_token": pair_similarities(evidence.canonical_fingerprints, pairs).max(axis=1),
        "literal_token": pair_similarities(evidence.literal_fingerprints, pairs).max(axis=1),
        "identifiers": pair_cosines(evidence.names, pairs),
        "semantic": semantic_similarities(pairs, evidence.rows_of, evidence.units, evidence.table).max(axis=1),
    }
    return [dict(zip(by_channel, values)) for values in zip(*(column.tolist() for column in by_channel.values()))]


def detect(
    cohort: list[SubmittedCode],
    archives: list[SubmittedCode],
    known: KnownCode,
    skipped: list[Skipped],
    encoder: Encoder,
    cache: EmbeddingCache | None,
    calibration: Calibration,
    settings: DetectorSettings = DetectorSettings(),
) -> Detection:
    """Score the cohort's pairs (and each against the archives), list the top and every flagged one with what explains it.
    What the pairs share with the known code (starter, known sources) is no evidence and is removed first."""
    submissions = cohort + archives
    evidence = _gather_evidence(submissions, len(cohort), known, encoder, cache, settings)
    ordered = _pairs_to_score(evidence, len(submissions), len(cohort), settings)
    channels = _channel_scores(evidence, ordered)
    # A submission with nothing of its own (the starter handed back) says nothing about what two real solutions
    # usually share: as a partner it would make every real pair stand out.
    empty = frozenset(
        index
        for index in range(len(submissions))
        if not evidence.rows_of[index] and len(evidence.fingerprints[index].hashes) == 0
    )
    relative = relative_channels(
        ordered, channels, settings.relative_partners, settings.relative_spread_floor, not_partners=empty
    )
    scores = [
        calibration.score(calibration_features(pair_channels, pair_relative))
        for pair_channels, pair_relative in zip(channels, relative)
    ]
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
            unit_matches=unit_matches(
                evidence.rows_of[first], evidence.rows_of[second], evidence.units, evidence.vectors
            ),
            tokens=compare(evidence.fingerprints[first], evidence.fingerprints[second])
            if rank < settings.side_by_side
            else None,
        )

    threshold = calibration.flag_threshold if settings.flag_threshold is None else settings.flag_threshold
    to_list = [
        (rank, position)
        for rank, position in enumerate(ranking)
        if rank < settings.report_top or scores[position] >= threshold
    ]
    listed = parallel_map(explained, to_list, parallel_from=settings.parallel_pairs_from)
    exhaustive = len(cohort) <= settings.exhaustive_up_to
    return Detection(
        submissions=submissions,
        pairs=listed,
        clusters=_clusters(listed, threshold),  # every flagged pair is listed
        skipped=skipped,
        all_scores=[scores[position] for position in ranking],
        flag_threshold=threshold,
        stats={
            "units": len(evidence.units),
            "embedded_now": evidence.embedded_now,
            "pairs_scored": len(ranking),
            "pairs_possible": total_pairs,
            "exhaustive": float(exhaustive),
        },
    )
