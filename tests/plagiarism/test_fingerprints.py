from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from copydetect.detector import CodeFingerprint, compare_files
from copydetect.utils import get_token_coverage

from grader.plagiarism.fingerprints import (
    Fingerprint,
    FingerprintSettings,
    compare,
    kgram_hashes,
    pair_similarities,
    similarities,
    sorted_distinct,
    winnow_positions,
)
from grader.plagiarism.token_filter import filter_python

DEVSET = Path(__file__).resolve().parents[2] / "bench" / "plagiarism" / "devset"
SETTINGS = FingerprintSettings()


@pytest.mark.parametrize("window", [1, 2, 3, 6, 9])
@pytest.mark.parametrize("spread", [4, 1000, 2**62])  # small spreads force tied minima inside windows
def test_winnowing_keeps_the_smallest_hash_of_every_window(window: int, spread: int) -> None:
    rng = np.random.default_rng(window * 7919 + spread % 1000)
    for length in (0, 1, window - 1, window, 50, 400):
        hashes = rng.integers(-spread, spread, size=max(length, 0), dtype=np.int64)
        selected = winnow_positions(hashes, window)
        assert selected.tolist() == sorted(set(selected.tolist()))
        for end in range(len(hashes)):
            start = max(0, end - window + 1)
            inside = selected[(selected >= start) & (selected <= end)]
            assert len(inside) and hashes[inside].min() == hashes[start : end + 1].min()
        if window > 1 and length >= 50:
            assert len(selected) < len(hashes)  # winnowing keeps a fraction, not every k-gram


def copydetect_fingerprint(code: str) -> CodeFingerprint:
    """copydetect's own structure over the same filter, hash and winnowing (as the detector built it before)."""
    filtered, _ = filter_python(code)
    hashes = kgram_hashes(filtered, SETTINGS.noise)
    positions = winnow_positions(hashes, SETTINGS.window)
    index: dict[int, list[int]] = {}
    for hash_value, position in zip(hashes[positions].tolist(), positions.tolist()):
        index.setdefault(hash_value, []).append(position)
    fingerprint = CodeFingerprint.__new__(CodeFingerprint)
    fingerprint.filtered_code, fingerprint.offsets, fingerprint.k = filtered, np.zeros((0, 2)), SETTINGS.noise
    fingerprint.hashes, fingerprint.hash_idx = set(index), index
    fingerprint.token_coverage = get_token_coverage(index, SETTINGS.noise, len(filtered))
    return fingerprint


def array_fingerprint(code: str) -> Fingerprint:
    filtered, spans = filter_python(code)
    hashes = kgram_hashes(filtered, SETTINGS.noise)
    positions = winnow_positions(hashes, SETTINGS.window)
    return Fingerprint(len(filtered), spans, hashes[positions], positions, SETTINGS.noise)


def ranges(slices: np.ndarray) -> list[tuple[int, int]]:
    return [(int(start), int(end)) for start, end in zip(*slices)] if len(slices) else []


def test_compare_gives_copydetects_similarities() -> None:
    """copydetect's compare_files over the same fingerprints (its baseline's measure, computed on arrays here)."""
    codes = [path.read_text() for path in sorted((DEVSET / "bpe").rglob("*.py"))]
    ours = [array_fingerprint(code) for code in codes]
    theirs = [copydetect_fingerprint(code) for code in codes]
    for fingerprint, reference in zip(ours, theirs):
        assert fingerprint.coverage == reference.token_coverage
    matched = 0
    for first, second in combinations(range(len(codes)), 2):
        match = compare(ours[first], ours[second])
        _, (similarity_a, similarity_b), _ = compare_files(theirs[first], theirs[second])
        assert (match.similarity_a, match.similarity_b) == (float(similarity_a), float(similarity_b))
        matched += bool(match.slices_a)
    assert matched >= 5  # rewrites of one solution share code: the slices were really compared


def test_copied_slices_point_at_the_shared_source_text() -> None:
    shared = (DEVSET / "bpe" / "independent" / "s1.py").read_text()
    other = (DEVSET / "attention" / "independent" / "s1.py").read_text()
    a, b = shared, other + "\n\n" + shared
    match = compare(array_fingerprint(a), array_fingerprint(b))
    assert match.similarity_a > 0.9
    copied_in_b = "".join(b[start:end] for start, end in match.slices_b)
    assert len(copied_in_b) > 0.8 * len(shared.strip()) and all(b[start:end] in shared for start, end in match.slices_b)


def test_pair_similarities_are_similarities_of_each_pair() -> None:
    """Over dev-set files of two tasks (copies, rewrites, unrelated solutions, the starter): the same numbers, bit for bit."""
    codes = [path.read_text() for task in ("bpe", "attention") for path in sorted((DEVSET / task).rglob("*.py"))] + [
        "",
        "x = 1\n",
    ]
    fingerprints = [array_fingerprint(code) for code in codes]
    pairs = list(combinations(range(len(codes)), 2))
    computed = pair_similarities(fingerprints, pairs)
    expected = [similarities(fingerprints[a], fingerprints[b]) for a, b in pairs]
    assert computed.tolist() == [list(pair) for pair in expected]
    assert 0 < computed.min(axis=1).max() and computed.max() <= 1.0  # some pairs share code, and none beyond all of it


@pytest.mark.parametrize("spread", [3, 2**62])
def test_sorted_distinct_is_np_unique(spread: int) -> None:
    rng = np.random.default_rng(spread % 97)
    for length in (0, 1, 2, 500):
        values = rng.integers(-spread, spread, size=length, dtype=np.int64)
        assert sorted_distinct(values).tolist() == np.unique(values).tolist()
