"""Project 3 handout and hidden data: public tests pass on the reference and fail on the starter; the hidden data is
reproducible and never leaks into what students see."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENT = REPO / "assignments" / "p3"
HIDDEN = ASSIGNMENT / "hidden_tests"
REFERENCE = REPO / "reference_solutions" / "p3"
STUDENT_VISIBLE = [ASSIGNMENT / "README.md", ASSIGNMENT / "starter", ASSIGNMENT / "public_tests"]


@pytest.fixture(scope="module")
def builder():
    spec = importlib.util.spec_from_file_location(
        "p3_build_hidden_data", ASSIGNMENT / "dataset" / "build_hidden_data.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gold() -> dict[str, list]:
    return json.loads((HIDDEN / "judge" / "gold.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def batches() -> dict[str, dict[str, str]]:
    return json.loads((HIDDEN / "judge" / "documents.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def student_visible_text() -> str:
    files = [path for root in STUDENT_VISIBLE for path in ([root] if root.is_file() else sorted(root.rglob("*.py")))]
    return "\n".join(" ".join(path.read_text(encoding="utf-8").split()) for path in files)


def test_committed_hidden_data_is_what_the_builder_writes(builder, tmp_path):
    builder.build(tmp_path, deb=None)
    written = sorted(path.relative_to(tmp_path) for path in tmp_path.rglob("*") if path.is_file())
    assert written, "the builder wrote nothing"
    for relative in written:
        assert (tmp_path / relative).read_bytes() == (HIDDEN / relative).read_bytes(), f"{relative} is stale"


def test_probe_and_judge_hold_the_same_corpus():
    assert (HIDDEN / "probe" / "data" / "documents.json").read_bytes() == (
        HIDDEN / "judge" / "documents.json"
    ).read_bytes()


def test_probe_questions_carry_ids_and_texts_only(gold):
    questions = json.loads((HIDDEN / "probe" / "data" / "questions.json").read_text(encoding="utf-8"))
    assert [sorted(question) for question in questions] == [["id", "question"]] * len(questions)
    assert {question["id"] for question in questions} == set(gold)
    assert not list((HIDDEN / "probe").rglob("gold*")) and not list((HIDDEN / "probe").rglob("*.yaml"))


def test_every_gold_span_holds_its_quote(builder, gold, batches):
    documents = {name: text for batch in batches.values() for name, text in batch.items()}
    spec = builder.yaml.safe_load((ASSIGNMENT / "dataset" / "questions.yaml").read_text(encoding="utf-8"))
    quotes = {" ".join(entry["quote"].split()) for entry in spec["questions"] if entry["quote"]}
    for spans in gold.values():
        for source, start, end in spans:
            assert " ".join(documents[source][start:end].split()) in quotes


def test_the_question_set_mixes_answerable_and_unanswerable_questions(gold, batches):
    main_sources = set(batches["main"])
    assert sum(bool(spans) and spans[0][0] in main_sources for spans in gold.values()) >= 20
    assert sum(not spans for spans in gold.values()) >= 5


def test_handout_reveals_no_hidden_question_passage_or_document(builder, batches, student_visible_text):
    spec = builder.yaml.safe_load((ASSIGNMENT / "dataset" / "questions.yaml").read_text(encoding="utf-8"))
    for entry in spec["questions"]:
        assert " ".join(entry["question"].split()) not in student_visible_text
        if entry["quote"]:
            assert " ".join(entry["quote"].split()) not in student_visible_text
    for batch in batches.values():
        for source, text in batch.items():
            assert Path(source).name not in student_visible_text
            for line in re.findall(r"[^\n]{60,}", text):
                assert " ".join(line.split()) not in student_visible_text, line
