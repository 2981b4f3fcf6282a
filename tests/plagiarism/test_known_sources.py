"""Known sources (the lecture's code a course taught from): what two solutions share because both follow it is removed
like the starter, so it does not count as evidence of copying."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from grader.entrypoints.plagiarism import plagiarism, review_app
from grader.plagiarism.calibration import load_calibration
from grader.plagiarism.known_code import KnownCode
from grader.plagiarism.submissions import SourceFile
from tests.plagiarism.conftest import ALICE, BOB, CAROL, MALLORY, STARTER, score_of

FLAG = load_calibration().flag_threshold

# The lecture's word count, as the course showed it before handing out the starter.
LECTURE = '''"""Lecture 3: counting words."""
import re
from collections import Counter


def tokenize(text):
    text = text.lower()
    text = re.sub(r"[^a-z0-9\\s']", " ", text)
    words = [word.strip("'") for word in text.split()]
    return [word for word in words if word]


def top_words(tokens, n):
    counts = Counter(tokens)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ordered[:n]
'''

_TODO_TOKENIZE = '''def tokenize(text):
    """TODO: lowercase words, punctuation removed."""
    raise NotImplementedError'''
_TODO_TOP_WORDS = '''def top_words(tokens, n):
    """TODO: the n most frequent words with their counts, ties alphabetical."""
    raise NotImplementedError'''

# Two students who each typed the lecture's functions into the starter, and nothing else in common.
DANA = STARTER.replace(
    _TODO_TOKENIZE,
    """import re


def tokenize(text):
    text = text.lower()
    text = re.sub(r"[^a-z0-9\\s']", " ", text)
    words = [word.strip("'") for word in text.split()]
    return [word for word in words if word]""",
).replace(
    _TODO_TOP_WORDS,
    """def top_words(tokens, n):
    counts = Counter(tokens)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ordered[:n]""",
)
ERIN = STARTER.replace(
    _TODO_TOKENIZE,
    '''import re


def tokenize(text):
    """Lowercase words without punctuation (as in lecture 3)."""
    text = text.lower()
    text = re.sub(r"[^a-z0-9\\s']", " ", text)
    words = [word.strip("'") for word in text.split()]
    return [word for word in words if word]''',
).replace(
    _TODO_TOP_WORDS,
    '''def top_words(tokens, n):
    """Most frequent first."""
    if n <= 0:
        return []
    counts = Counter(tokens)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ordered[:n]''',
)

COHORT = {
    "alice.py": ALICE,
    "bob.py": BOB,
    "carol.py": CAROL,
    "mallory.py": MALLORY,
    "dana.py": DANA,
    "erin.py": ERIN,
}


@pytest.fixture
def lecture() -> tuple[SourceFile, ...]:
    return (SourceFile("lecture3.py", LECTURE),)


def test_a_pair_sharing_only_known_source_code_scores_below_a_pair_that_copies(run_detection, lecture):
    """Dana and Erin both typed in the lecture's functions: unregistered, that reads as a copy; once the lecture is a
    known source their pair falls below the flag and below Alice and Mallory's (a renamed copy of Alice's own code)."""
    unregistered = run_detection(COHORT)
    assert score_of(unregistered, "dana.py", "erin.py") >= FLAG

    registered = run_detection(COHORT, known_sources=lecture)
    twins, copy = score_of(registered, "dana.py", "erin.py"), score_of(registered, "alice.py", "mallory.py")
    assert twins < FLAG <= copy
    assert twins < copy


def test_known_sources_add_no_assignment_interface(lecture):
    """Only the starter's top-level names are the interface kept verbatim; the lecture's are a student's choice."""
    known = KnownCode(
        (SourceFile("solution.py", STARTER),), (SourceFile("lecture.py", "def helper(x):\n    return x\n"),)
    )
    assert "helper" not in known.api_names and {"tokenize", "top_words"} <= known.api_names
    assert [source.path for source in known.files] == ["solution.py", "lecture.py"]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.setenv("GRADER_DATABASE_URL", f"sqlite:///{tmp_path / 'gradebook.sqlite3'}")
    monkeypatch.setenv("GRADER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GRADER_COURSE_DIR", str(tmp_path / "course"))
    app = typer.Typer()
    app.command("plagiarism")(plagiarism)
    app.add_typer(review_app, name="plagiarism-review")
    return app


def _twins_score(cli: typer.Typer, cohort: Path, out: Path, *options: str) -> float:
    result = CliRunner().invoke(cli, ["plagiarism", *options, "--no-flag", str(cohort), "--json", str(out)])
    assert result.exit_code == 0, result.output
    pairs = json.loads(out.read_text())["pairs"]
    return next(pair["score"] for pair in pairs if {pair["a"], pair["b"]} == {"dana.py", "erin.py"})


def test_cli_takes_known_sources_as_files_and_from_the_assignment(cli: typer.Typer, tmp_path: Path):
    cohort = tmp_path / "submissions"
    cohort.mkdir()
    for name, code in COHORT.items():
        (cohort / name).write_text(code)
    course = tmp_path / "course" / "assignments" / "p1"
    (course / "starter").mkdir(parents=True)
    (course / "starter" / "solution.py").write_text(STARTER)
    alone = _twins_score(cli, cohort, tmp_path / "alone.json", "--assignment", "p1")

    lecture = tmp_path / "lecture3.py"
    lecture.write_text(LECTURE)
    given = _twins_score(cli, cohort, tmp_path / "given.json", "--assignment", "p1", "--known-source", str(lecture))
    (course / "known_sources").mkdir()
    (course / "known_sources" / "lecture3.py").write_text(LECTURE)
    registered = _twins_score(cli, cohort, tmp_path / "registered.json", "--assignment", "p1")

    assert alone >= FLAG > given
    assert registered == pytest.approx(given)


def test_cli_names_a_known_source_it_cannot_read(cli: typer.Typer, tmp_path: Path):
    (tmp_path / "submissions").mkdir()
    (tmp_path / "submissions" / "dana.py").write_text(DANA)
    slides = tmp_path / "lecture3.pdf"
    slides.write_bytes(b"%PDF-1.4")
    result = CliRunner().invoke(cli, ["plagiarism", "--known-source", str(slides), str(tmp_path / "submissions")])
    assert result.exit_code != 0
    assert "known source" in result.output and "unsupported file type .pdf" in result.output
