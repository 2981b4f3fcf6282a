from __future__ import annotations

import math
from collections import Counter

import numpy as np

from grader.plagiarism.identifiers import identifier_counts, pair_cosines, tfidf_matrix


def test_identifier_counts_leave_out_builtins_keywords_and_ignored_names():
    code = "def tally(words):\n    seen = {}\n    for word in words:\n        seen[word] = len(word) + 42\n    return 'done', seen\n"
    assert identifier_counts(code, frozenset({"tally"})) == Counter(
        {"words": 2, "seen": 3, "word": 3, "42": 1, "'done'": 1}
    )


def test_tfidf_rows_weigh_names_by_rarity_in_the_cohort_and_are_unit_length():
    """(1 + log count) * log((n + 1) / (df + 1)), df from the cohort rows only; a name every submission has weighs 0."""
    cohort = [
        Counter({"shared": 1, "rare": 3}),
        Counter({"shared": 2, "rare": 1, "own": 1}),
        Counter({"shared": 1, "other": 2}),
    ]
    archive = [Counter({"rare": 1, "unseen": 5})]
    matrix = tfidf_matrix(cohort + archive, cohort_size=3)

    def weight(count: int, frequency: int) -> float:
        return (1 + math.log(count)) * math.log(4 / (frequency + 1))

    expected = [
        {"rare": weight(3, 2)},
        {"rare": weight(1, 2), "own": weight(1, 1)},
        {"other": weight(2, 1)},
        {"rare": weight(1, 2), "unseen": weight(5, 0)},
    ]
    norms = [math.sqrt(sum(value**2 for value in row.values())) for row in expected]

    def cosine(first: int, second: int) -> float:
        shared = expected[first].keys() & expected[second].keys()
        return sum(expected[first][name] * expected[second][name] for name in shared) / (norms[first] * norms[second])

    pairs = [(0, 1), (0, 2), (1, 3), (0, 3), (2, 3)]
    assert np.allclose(
        pair_cosines(matrix, pairs), [cosine(first, second) for first, second in pairs], rtol=1e-12, atol=0
    )
    assert np.allclose(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel(), 1.0)
    assert pair_cosines(matrix, [(0, 2)])[0] == 0.0  # they share only "shared", which every cohort submission has
