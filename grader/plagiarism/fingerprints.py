"""Token fingerprints (winnowing over filtered tokens, as MOSS and copydetect do), with the known code (starter, known
sources) and cohort-wide boilerplate removed.

Computed on arrays, a cohort at a time: copydetect, the baseline these measures follow (token coverage, compare_files),
keeps a dict of position lists per hash and winnows in a Python loop, which made fingerprinting and scoring a
1,000-submission cohort take minutes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import sparse

from grader.plagiarism.token_filter import filter_joined, filter_python, literal_filter

# Rolling-hash base: a polynomial hash, the same in every process (Python's hash() of a string changes with
# PYTHONHASHSEED), keeps scores reproducible.
_BASE = np.uint64(1_000_003)


def sorted_distinct(values: np.ndarray) -> np.ndarray:
    """np.unique(values) by sorting: numpy 2 finds the distinct integers by hashing first, 10 to 40 times slower on
    these arrays (measured with numpy 2.4: 0.40 s against 0.01 s for 700,000 hashes)."""
    ordered = np.sort(values)
    first = np.ones(len(ordered), dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    return ordered[first]


@dataclass(frozen=True)
class FingerprintSettings:
    noise: int = 25  # k: shortest matching run of filtered characters that counts
    guarantee: int = 30  # every match this long is found (window = guarantee - noise + 1)
    cohort_share: float = 0.3  # a fingerprint in more than this share of the cohort is boilerplate ...
    cohort_min_count: int = 4  # ... once it is in at least this many submissions (tiny cohorts keep their pairs)

    @property
    def window(self) -> int:
        return self.guarantee - self.noise + 1


@dataclass(frozen=True)
class TokenMatch:
    similarity_a: float  # share of a's fingerprinted tokens found in b
    similarity_b: float
    slices_a: list[tuple[int, int]]  # character ranges of copied code in a's text
    slices_b: list[tuple[int, int]]


def kgram_hashes(text: str, k: int) -> np.ndarray:
    """A deterministic 64-bit polynomial hash of every k-character window (wrapping arithmetic)."""
    if len(text) < k:
        return np.zeros(0, dtype=np.int64)
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    windows = len(codes) - k + 1
    hashes = np.zeros(windows, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for offset in range(k):
            hashes = hashes * _BASE + codes[offset : offset + windows]
    return hashes.view(np.int64)


def _covered(positions: np.ndarray, k: int) -> int:
    """Characters inside the k-grams at these ascending positions: gaps up to k count whole, longer ones k."""
    if len(positions) == 0:
        return 0
    return int(np.minimum(np.diff(positions), k).sum()) + k


@dataclass(frozen=True)
class Fingerprint:
    filtered_length: int
    spans: np.ndarray  # per filtered token: (start in the filtered text, raw start, raw end)
    hashes: np.ndarray  # the kept (winnowed, not boilerplate) k-gram hash at each position below
    positions: np.ndarray  # ascending positions in the filtered text
    k: int

    @cached_property
    def coverage(self) -> int:
        """Token coverage: filtered characters inside some kept k-gram."""
        return _covered(self.positions, self.k)

    @cached_property
    def distinct(self) -> np.ndarray:
        """The kept hashes, sorted and each once."""
        return sorted_distinct(self.hashes)

    def holding(self, hashes: np.ndarray) -> np.ndarray:
        """Which positions' hashes are among hashes (sorted, distinct): np.isin without its sorting."""
        if len(hashes) == 0:
            return np.zeros(len(self.hashes), dtype=bool)
        slots = np.minimum(np.searchsorted(hashes, self.hashes), len(hashes) - 1)
        return hashes[slots] == self.hashes


def winnow_positions(hashes: np.ndarray, window: int) -> np.ndarray:
    """Winnowing: the position of each window's smallest hash (the rightmost of tied ones), each position once."""
    if window == 1 or len(hashes) == 0:
        return np.arange(len(hashes), dtype=np.int64)
    padded = np.concatenate([np.full(window - 1, np.iinfo(np.int64).max), hashes])
    windows = sliding_window_view(padded, window)
    chosen = np.arange(len(hashes)) - windows[:, ::-1].argmin(axis=1)
    return sorted_distinct(chosen)


def _fingerprint(
    filtered: str, spans: np.ndarray, settings: FingerprintSettings, window: int | None = None
) -> Fingerprint:
    hashes = kgram_hashes(filtered, settings.noise)
    positions = winnow_positions(hashes, window or settings.window)
    # 32-bit spans and positions: a cohort's fingerprints are cached on disk and read back on every run (the spans are
    # most of their bytes).
    return Fingerprint(
        len(filtered), np.asarray(spans, np.int32), hashes[positions], positions.astype(np.int32), settings.noise
    )


def known_hashes(
    known_code: list[str],
    settings: FingerprintSettings,
    text_filter: Callable[[str], tuple[str, np.ndarray]] = filter_python,
) -> np.ndarray:
    """Every k-gram hash of the known code's filtered text (window 1): boilerplate wherever it occurs."""
    hashes = [_fingerprint(*text_filter(code), settings, window=1).hashes for code in known_code]
    return sorted_distinct(np.concatenate(hashes)) if hashes else np.zeros(0, np.int64)


def code_fingerprints(code: str, settings: FingerprintSettings) -> tuple[Fingerprint, Fingerprint]:
    """The winnowed fingerprints of code's filtered text and of its literal text, boilerplate still in."""
    return _fingerprint(*filter_python(code), settings), _fingerprint(*literal_filter(code), settings)


def units_fingerprint(parts: tuple[str, ...], settings: FingerprintSettings) -> Fingerprint:
    """The fingerprint of filter_python("\n".join(parts))."""
    return _fingerprint(*filter_joined(parts), settings)


def without_boilerplate(
    fingerprints: list[Fingerprint], cohort_size: int, known: np.ndarray, settings: FingerprintSettings
) -> list[Fingerprint]:
    """The fingerprints without the known code's and without what the cohort (the first cohort_size) has in common.

    The fingerprints come through a WorkCache: kept by content, a re-run only fingerprints new submissions. All texts'
    hashes are handled as one array (hashes numbered by np.unique), not text by text.
    """
    if not fingerprints:
        return []
    lengths = [len(fingerprint.hashes) for fingerprint in fingerprints]
    vocabulary, column = np.unique(
        np.concatenate([fingerprint.hashes for fingerprint in fingerprints]), return_inverse=True
    )
    column = column.reshape(-1)
    owner = np.repeat(np.arange(len(fingerprints), dtype=np.int64), lengths)
    keep = ~np.isin(vocabulary, known)[column]
    counted = keep & (owner < cohort_size)
    held = sorted_distinct(column[counted] * len(fingerprints) + owner[counted])  # each (hash, text) once
    holders = np.bincount(held // len(fingerprints), minlength=len(vocabulary))
    limit = max(settings.cohort_share * cohort_size, settings.cohort_min_count - 1)
    keep &= holders[column] <= limit
    kept = np.split(keep, np.cumsum(lengths)[:-1])
    return [
        Fingerprint(
            fingerprint.filtered_length,
            fingerprint.spans,
            fingerprint.hashes[mask],
            fingerprint.positions[mask],
            fingerprint.k,
        )
        for fingerprint, mask in zip(fingerprints, kept)
    ]


def _copied_slices(positions: np.ndarray, k: int) -> np.ndarray:
    """Runs of matched positions closer than k merged into [start, end) ranges of the filtered text."""
    ordered = np.sort(positions)
    following = np.concatenate([ordered[1:], [0]])
    skips = np.where(following - ordered > k - 1)[0]
    return np.array(
        [np.concatenate([[ordered[0]], ordered[skips + 1]]), np.concatenate([ordered[skips] + k, [ordered[-1] + k]])]
    )


def _raw_ranges(slices: np.ndarray, spans: np.ndarray) -> list[tuple[int, int]]:
    """Filtered-text ranges mapped back to the raw text: from the first token's start to the last token's end."""
    if len(spans) == 0:
        return []
    first = np.searchsorted(spans[:, 0], slices[0], side="right") - 1
    last = np.searchsorted(spans[:, 0], slices[1] - 1, side="right") - 1
    return [(int(start), int(end)) for start, end in zip(spans[first, 1], spans[last, 2])]


def similarities(a: Fingerprint, b: Fingerprint) -> tuple[float, float]:
    """compare's two similarities alone: a run's copied slices cover what its k-grams cover, so no slices are built."""
    shared = np.intersect1d(a.distinct, b.distinct, assume_unique=True)
    if len(shared) == 0:
        return 0.0, 0.0
    first, second = (
        _covered(side.positions[side.holding(shared)], side.k) / side.coverage if side.filtered_length > 0 else 0.0
        for side in (a, b)
    )
    return first, second


def pair_similarities(fingerprints: list[Fingerprint], pairs: list[tuple[int, int]]) -> np.ndarray:
    """similarities(fingerprints[a], fingerprints[b]) of every pair, as a (pairs, 2) array: the same numbers, computed
    on flat arrays instead of a dozen numpy calls per pair (seconds for a cohort's pairs).

    Hashes become columns of one vocabulary. The sides (a text and its partner) are taken partner by partner: the
    partner's columns are marked in one boolean row, and every position of the texts paired with it looked up there.
    """
    if not pairs:
        return np.zeros((0, 2))
    vocabulary, inverse = np.unique(
        np.concatenate([fingerprint.hashes for fingerprint in fingerprints]), return_inverse=True
    )
    columns = np.split(inverse.reshape(-1), np.cumsum([len(fingerprint.hashes) for fingerprint in fingerprints])[:-1])
    ends = np.array(pairs, dtype=np.int64)
    owners, partners = np.concatenate([ends[:, 0], ends[:, 1]]), np.concatenate([ends[:, 1], ends[:, 0]])
    order = np.argsort(partners, kind="stable")
    owner_list = owners[order].tolist()
    marked = np.zeros(len(vocabulary), dtype=bool)
    found = []
    for group in np.split(np.arange(len(order)), np.flatnonzero(np.diff(partners[order])) + 1):
        partner = int(partners[order[group[0]]])
        marked[columns[partner]] = True
        found.append(marked[np.concatenate([columns[owner_list[side]] for side in group.tolist()])])
        marked[columns[partner]] = False
    lengths = np.array([len(fingerprints[owner].positions) for owner in owner_list])
    found_flat = np.concatenate(found)
    side = np.repeat(np.arange(len(order), dtype=np.int32), lengths)[found_flat]
    positions = np.concatenate([fingerprints[owner].positions for owner in owner_list])[found_flat].astype(np.int64)
    k = np.array([fingerprint.k for fingerprint in fingerprints])[owners[order]]
    coverage = np.array(
        [fingerprint.coverage if fingerprint.filtered_length > 0 else 0 for fingerprint in fingerprints], dtype=float
    )[owners[order]]
    within = side[1:] == side[:-1]  # positions ascend within a side
    gaps = np.minimum(np.diff(positions), k[side[1:]])[within]
    covered = np.bincount(side[1:][within], weights=gaps, minlength=len(order)) + k * (
        np.bincount(side, minlength=len(order)) > 0
    )
    shares = np.empty(len(order))
    shares[order] = np.divide(covered, coverage, out=np.zeros(len(order)), where=coverage > 0)
    return shares.reshape(2, -1).T


def compare(a: Fingerprint, b: Fingerprint) -> TokenMatch:
    """The share of each side's covered tokens that the other side also has (copydetect's compare_files), and where."""
    similarity_a, similarity_b = similarities(a, b)
    if similarity_a == similarity_b == 0.0:
        return TokenMatch(0.0, 0.0, [], [])
    shared = np.intersect1d(a.distinct, b.distinct, assume_unique=True)
    slices_a = _copied_slices(a.positions[a.holding(shared)], a.k)
    slices_b = _copied_slices(b.positions[b.holding(shared)], b.k)
    return TokenMatch(similarity_a, similarity_b, _raw_ranges(slices_a, a.spans), _raw_ranges(slices_b, b.spans))


def shared_counts(fingerprints: list[Fingerprint]) -> sparse.csr_matrix:
    """How many fingerprints each two texts share: a symmetric sparse matrix with an empty diagonal.

    One sparse product of the texts-by-fingerprints incidence matrix: a fingerprint held by h texts costs h² additions
    in C. Fingerprints in more than cohort_share of the cohort are boilerplate and were removed before (without_boilerplate),
    so h stays below that share; a cap under it would drop what a group of copiers shares, and rank their pairs by chance.
    """
    held = [fingerprint.distinct for fingerprint in fingerprints]
    values, columns = (
        np.unique(np.concatenate(held), return_inverse=True) if held else (np.zeros(0), np.zeros(0, np.int64))
    )
    rows = np.repeat(np.arange(len(held)), [len(hashes) for hashes in held])
    incidence = sparse.csr_matrix(
        (np.ones(len(rows), np.int32), (rows, columns.reshape(-1))), shape=(len(held), len(values))
    )
    counts = (incidence @ incidence.T).tocsr()
    counts.setdiag(0)
    counts.eliminate_zeros()
    return counts
