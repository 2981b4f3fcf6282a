"""Identifier and literal overlap weighted by rarity in the cohort: names a student chose survive structural rewrites."""

from __future__ import annotations

import builtins
import keyword
import tokenize
from collections import Counter

import numpy as np
from scipy import sparse

from grader.plagiarism.token_filter import python_tokens

_COMMON = frozenset(dir(builtins)) | frozenset(keyword.kwlist)


def identifier_counts(code: str, ignored: frozenset[str]) -> Counter[str]:
    """Names, numbers and strings of the code, minus builtins, keywords and ignored (the starter's own tokens)."""
    counts: Counter[str] = Counter()
    for kind, value, _, _ in python_tokens(code):  # a character Python rejects is passed over
        if kind in (tokenize.NAME, tokenize.NUMBER, tokenize.STRING) and value not in _COMMON and value not in ignored:
            counts[value] += 1
    return counts


def tfidf_matrix(counts: list[Counter[str]], cohort_size: int) -> sparse.csr_matrix:
    """One L2-normalised row per entry: rare shared names weigh most; document frequencies come from the cohort (the
    first cohort_size entries)."""
    columns: dict[str, int] = {}
    column = np.fromiter((columns.setdefault(name, len(columns)) for entry in counts for name in entry), np.int64)
    rows = np.repeat(np.arange(len(counts)), [len(entry) for entry in counts])
    count = np.fromiter((value for entry in counts for value in entry.values()), float, count=len(column))
    frequency = np.bincount(column[rows < cohort_size], minlength=len(columns))
    weight = (1.0 + np.log(count)) * np.log((cohort_size + 1) / (frequency[column] + 1))
    kept = weight > 0  # a name in every cohort submission says nothing
    matrix = sparse.csr_matrix((weight[kept], (rows[kept], column[kept])), shape=(len(counts), len(columns)))
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    return sparse.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ matrix


def pair_cosines(matrix: sparse.csr_matrix, pairs: list[tuple[int, int]]) -> np.ndarray:
    """The cosine of each pair's rows, all pairs in one sparse product."""
    if not pairs:
        return np.zeros(0)
    first, second = (list(side) for side in zip(*pairs))
    return np.asarray(matrix[first].multiply(matrix[second]).sum(axis=1)).ravel()
