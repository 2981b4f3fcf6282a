from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.plagiarism.calibration import load_calibration
from grader.plagiarism.detector import Detection, DetectorSettings, detect
from grader.plagiarism.embeddings import EmbeddingCache, SentenceEncoder
from grader.plagiarism.known_code import KnownCode
from grader.plagiarism.submissions import ReadLimits, SourceFile, load_folder, read_entry

STARTER = '''"""Homework: word statistics."""
from collections import Counter


def read_text(path):
    """Provided: the file's text."""
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def tokenize(text):
    """TODO: lowercase words, punctuation removed."""
    raise NotImplementedError


def top_words(tokens, n):
    """TODO: the n most frequent words with their counts, ties alphabetical."""
    raise NotImplementedError


def main():
    tokens = tokenize(read_text("book.txt"))
    for word, count in top_words(tokens, 10):
        print(f"{word:>12} {count}")
'''

ALICE = STARTER.replace(
    '''def tokenize(text):
    """TODO: lowercase words, punctuation removed."""
    raise NotImplementedError''',
    '''def tokenize(text):
    """Lowercase words, punctuation removed."""
    words = []
    current = ""
    for character in text.lower():
        if character.isalpha() or character == "'":
            current += character
        elif current:
            words.append(current.strip("'"))
            current = ""
    if current:
        words.append(current.strip("'"))
    return [word for word in words if word]''',
).replace(
    '''def top_words(tokens, n):
    """TODO: the n most frequent words with their counts, ties alphabetical."""
    raise NotImplementedError''',
    '''def top_words(tokens, n):
    """The n most frequent words, ties alphabetical."""
    frequencies = {}
    for token in tokens:
        frequencies[token] = frequencies.get(token, 0) + 1
    ranked = sorted(frequencies.items(), key=lambda item: (-item[1], item[0]))
    return ranked[:n]''',
)

BOB = STARTER.replace(
    '''def tokenize(text):
    """TODO: lowercase words, punctuation removed."""
    raise NotImplementedError''',
    '''import re


def tokenize(text):
    """Lowercase words, punctuation removed."""
    return re.findall(r"[a-z]+(?:'[a-z]+)?", text.lower())''',
).replace(
    '''def top_words(tokens, n):
    """TODO: the n most frequent words with their counts, ties alphabetical."""
    raise NotImplementedError''',
    '''def top_words(tokens, n):
    """The n most frequent words, ties alphabetical."""
    counts = Counter(tokens)
    return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[:n]''',
)

# Alice's code with every name she chose replaced, and reformatted.
MALLORY = STARTER.replace(
    '''def tokenize(text):
    """TODO: lowercase words, punctuation removed."""
    raise NotImplementedError''',
    """def tokenize(text):
    # split into words
    pieces = []
    buf = ""
    for ch in text.lower():
        if ch.isalpha() or ch == "'":
            buf += ch
        elif buf:
            pieces.append(buf.strip("'"))
            buf = ""
    if buf:
        pieces.append(buf.strip("'"))
    return [p for p in pieces if p]""",
).replace(
    '''def top_words(tokens, n):
    """TODO: the n most frequent words with their counts, ties alphabetical."""
    raise NotImplementedError''',
    """def top_words(tokens, n):
    table = {}
    for t in tokens:
        table[t] = table.get(t, 0) + 1
    order = sorted(table.items(), key=lambda kv: (-kv[1], kv[0]))
    return order[:n]""",
)

CAROL = STARTER.replace(
    '''def tokenize(text):
    """TODO: lowercase words, punctuation removed."""
    raise NotImplementedError''',
    '''def tokenize(text):
    """Lowercase words, punctuation removed."""
    cleaned = "".join(ch if ch.isalnum() or ch.isspace() else " " for ch in text)
    return cleaned.lower().split()''',
).replace(
    '''def top_words(tokens, n):
    """TODO: the n most frequent words with their counts, ties alphabetical."""
    raise NotImplementedError''',
    '''def top_words(tokens, n):
    """The n most frequent words, ties alphabetical."""
    best = Counter(tokens).most_common()
    best.sort(key=lambda entry: (-entry[1], entry[0]))
    return best[: max(n, 0)]''',
)


def notebook_of(code: str) -> str:
    """The code split into one cell per blank-line-separated chunk, with markdown and magics around it."""
    chunks = [chunk for chunk in code.split("\n\n\n") if chunk.strip()]
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Homework"]},
        {
            "cell_type": "code",
            "metadata": {},
            "source": ["%load_ext autoreload\n", "!pip list"],
            "outputs": [],
            "execution_count": None,
        },
    ]
    cells += [
        {
            "cell_type": "code",
            "metadata": {},
            "source": chunk.splitlines(keepends=True),
            "outputs": [],
            "execution_count": None,
        }
        for chunk in chunks
    ]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


@pytest.fixture(scope="session")
def encoder() -> SentenceEncoder:
    return SentenceEncoder("all-MiniLM-L6-v2")


@pytest.fixture
def starter_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "starter"
    folder.mkdir()
    (folder / "solution.py").write_text(STARTER)
    return folder


@pytest.fixture(scope="session")
def embedding_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shared by the tests so each code unit is embedded once per session (the cache is part of the real path)."""
    return tmp_path_factory.mktemp("embeddings")


@pytest.fixture
def run_detection(tmp_path: Path, starter_dir: Path, encoder: SentenceEncoder, embedding_cache_dir: Path):
    """Writes {name: content} as a cohort folder and runs the real detector over it."""

    def run(
        entries: dict[str, str | bytes],
        settings: DetectorSettings = DetectorSettings(),
        known_sources: tuple[SourceFile, ...] = (),
    ) -> Detection:
        cohort = tmp_path / "cohort"
        cohort.mkdir(exist_ok=True)
        for name, content in entries.items():
            path = cohort / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content if isinstance(content, bytes) else content.encode())
        submissions, skipped = load_folder(cohort)
        starter = read_entry(starter_dir, ReadLimits())
        return detect(
            submissions,
            [],
            KnownCode(tuple(starter), known_sources),
            skipped,
            encoder,
            EmbeddingCache(embedding_cache_dir, encoder.name),
            load_calibration(),
            settings,
        )

    return run


def score_of(detection: Detection, first: str, second: str) -> float:
    for pair in detection.pairs:
        if {pair.a, pair.b} == {first, second}:
            return pair.score
    raise AssertionError(f"pair {first} / {second} not listed")
