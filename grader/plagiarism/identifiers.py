"""Identifier and literal overlap weighted by rarity in the cohort: names a student chose survive structural rewrites."""

from __future__ import annotations

import builtins
import io
import keyword
import math
import tokenize
from collections import Counter

_COMMON = frozenset(dir(builtins)) | frozenset(keyword.kwlist)


def identifier_counts(code: str, ignored: frozenset[str]) -> Counter[str]:
    """Names, numbers and strings of the code, minus builtins, keywords and ignored (the starter's own tokens)."""
    counts: Counter[str] = Counter()
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type in (tokenize.NAME, tokenize.NUMBER, tokenize.STRING) and token.string not in _COMMON and token.string not in ignored:
                counts[token.string] += 1
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass  # a file that does not tokenize keeps the identifiers read so far
    return counts


def tfidf_vectors(counts: list[Counter[str]], cohort_size: int) -> list[dict[str, float]]:
    """Rare shared names weigh most; document frequencies come from the cohort (the first cohort_size entries)."""
    frequency = Counter(name for entry in counts[:cohort_size] for name in entry)
    vectors = []
    for entry in counts:
        weights = {name: (1.0 + math.log(count)) * math.log((cohort_size + 1) / (frequency.get(name, 0) + 1)) for name, count in entry.items()}
        norm = math.sqrt(sum(weight * weight for weight in weights.values())) or 1.0
        vectors.append({name: weight / norm for name, weight in weights.items() if weight > 0})
    return vectors


def cosine(first: dict[str, float], second: dict[str, float]) -> float:
    if len(second) < len(first):
        first, second = second, first
    return sum(weight * second.get(name, 0.0) for name, weight in first.items())
