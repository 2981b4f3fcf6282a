"""Token fingerprints (copydetect's winnowing over renamed tokens), with starter and cohort-wide boilerplate removed."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from copydetect.detector import CodeFingerprint, compare_files
from copydetect.utils import get_token_coverage, winnow

from grader.plagiarism.token_filter import filter_python

# Rolling-hash base: copydetect hashes k-grams with Python's hash(), which changes with every process (PYTHONHASHSEED);
# the same polynomial hash in every run keeps scores reproducible.
_BASE = np.uint64(1_000_003)


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


def _fingerprint(code: str, settings: FingerprintSettings, boilerplate: np.ndarray, window: int | None = None) -> CodeFingerprint:
    """copydetect's CodeFingerprint (its token filter, reimplemented faster, and winnowing) built with the deterministic k-gram hash."""
    filtered, offsets = filter_python(code)
    hashes, positions = winnow(kgram_hashes(filtered, settings.noise), window or settings.window, remove_duplicates=False)
    if len(boilerplate):
        keep = ~np.isin(hashes, boilerplate)
        hashes, positions = hashes[keep], positions[keep]
    index: dict[int, list[int]] = {}
    for hash_value, position in zip(hashes.tolist(), positions.tolist()):
        index.setdefault(hash_value, []).append(position)
    fingerprint = CodeFingerprint.__new__(CodeFingerprint)
    fingerprint.filename, fingerprint.raw_code, fingerprint.filtered_code, fingerprint.offsets = "submission.py", code, filtered, offsets
    fingerprint.hashes, fingerprint.hash_idx, fingerprint.k = set(index), index, settings.noise
    fingerprint.token_coverage = get_token_coverage(index, settings.noise, len(filtered))
    return fingerprint


def starter_hashes(starter_code: list[str], settings: FingerprintSettings) -> np.ndarray:
    """Every k-gram hash of the starter (window 1), as copydetect does for boilerplate."""
    hashes = [hash_value for code in starter_code for hash_value in _fingerprint(code, settings, np.zeros(0, np.int64), window=1).hashes]
    return np.unique(np.array(hashes, dtype=np.int64))


def _drop(fingerprint: CodeFingerprint, hashes: set[int]) -> None:
    for hash_value in hashes & fingerprint.hashes:
        del fingerprint.hash_idx[hash_value]
    fingerprint.hashes = fingerprint.hashes - hashes
    fingerprint.token_coverage = get_token_coverage(fingerprint.hash_idx, fingerprint.k, len(fingerprint.filtered_code))


def fingerprint_all(codes: list[str], cohort_size: int, starter: np.ndarray, settings: FingerprintSettings) -> list[CodeFingerprint]:
    """Fingerprints of each text; the first cohort_size texts are the cohort whose common fingerprints count as boilerplate."""
    fingerprints = [_fingerprint(code, settings, starter) for code in codes]
    frequency = Counter(hash_value for fingerprint in fingerprints[:cohort_size] for hash_value in fingerprint.hashes)
    limit = max(settings.cohort_share * cohort_size, settings.cohort_min_count - 1)
    common = {hash_value for hash_value, count in frequency.items() if count > limit}
    for fingerprint in fingerprints:
        _drop(fingerprint, common)
    return fingerprints


def _ranges(slices: np.ndarray) -> list[tuple[int, int]]:
    if len(slices) == 0 or slices.shape[0] == 0 or slices.size == 0:
        return []
    return [(int(start), int(end)) for start, end in zip(slices[0], slices[1])]


def compare(a: CodeFingerprint, b: CodeFingerprint) -> TokenMatch:
    _, (similarity_a, similarity_b), (slices_a, slices_b) = compare_files(a, b)
    return TokenMatch(float(similarity_a), float(similarity_b), _ranges(slices_a), _ranges(slices_b))


def shared_counts(fingerprints: list[CodeFingerprint], max_holders: int) -> Counter[tuple[int, int]]:
    """How many fingerprints each pair of texts shares, through an inverted index: pairs sharing none never appear.

    A fingerprint held by more than max_holders texts proposes no pairs (it is near-boilerplate, and would make this quadratic).
    """
    postings: dict[int, list[int]] = {}
    for index, fingerprint in enumerate(fingerprints):
        for hash_value in fingerprint.hashes:
            postings.setdefault(hash_value, []).append(index)
    counts: Counter[tuple[int, int]] = Counter()
    for holders in postings.values():
        if len(holders) > max_holders:
            continue
        for position, first in enumerate(holders):
            for second in holders[position + 1 :]:
                counts[(first, second)] += 1
    return counts
