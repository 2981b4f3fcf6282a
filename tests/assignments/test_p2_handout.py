"""Project 2 handout and data: public tests pass on the reference and fail on the starter; the dataset builder is
deterministic and reproduces the committed splits; the validation split predicts the hidden one for the baseline;
hidden labels never reach the probe or the handout."""

from __future__ import annotations

import filecmp
import importlib.util
import json
import sys
from pathlib import Path

import pytest

from tests.services import missing

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENT = REPO / "assignments" / "p2"
REFERENCE = REPO / "reference_solutions" / "p2"
PROBE_DATA = ASSIGNMENT / "hidden_tests" / "probe" / "data"
JUDGE = ASSIGNMENT / "hidden_tests" / "judge"
DATASET = ASSIGNMENT / "dataset"
# How far apart the baseline's validation and hidden accuracies may be: the validation split must predict the hidden
# result a student is graded on.
SPLIT_AGREEMENT = 0.02
BUILT_FILES = [
    "data/labels.json",
    "data/train.jsonl",
    "data/validation.jsonl",
    "hidden_tests/probe/data/train.jsonl",
    "hidden_tests/probe/data/hidden_texts.json",
    "hidden_tests/judge/hidden_labels.json",
]


@pytest.fixture(scope="module")
def dataset_path():
    """The dataset scripts import their sibling baseline.py, as they do when run from the command line."""
    sys.path.insert(0, str(DATASET))
    yield DATASET
    sys.path.remove(str(DATASET))


@pytest.fixture(scope="module")
def builder(dataset_path):
    spec = importlib.util.spec_from_file_location("p2_build_dataset", dataset_path / "build_dataset.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def fortunes_dir(builder) -> Path:
    if not (builder.FORTUNES_DIR / "definitions").is_file():
        missing("Debian fortunes files", f"{builder.FORTUNES_DIR} lacks them: apt-get install fortunes")
    return builder.FORTUNES_DIR


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.slow
def test_builder_reproduces_the_committed_splits_byte_for_byte(builder, fortunes_dir, tmp_path):
    builder.build(fortunes_dir, tmp_path)
    for name in BUILT_FILES:
        assert filecmp.cmp(tmp_path / name, ASSIGNMENT / name, shallow=False), name


@pytest.mark.slow
def test_baseline_scores_validation_and_hidden_alike(dataset_path):
    import baseline

    frozen = json.loads((JUDGE / "frozen_values.json").read_text(encoding="utf-8"))
    train = read_jsonl(ASSIGNMENT / "data" / "train.jsonl")
    validation = read_jsonl(ASSIGNMENT / "data" / "validation.jsonl")
    hidden_texts = json.loads((PROBE_DATA / "hidden_texts.json").read_text(encoding="utf-8"))
    hidden_labels = json.loads((JUDGE / "hidden_labels.json").read_text(encoding="utf-8"))
    regression = baseline.fit([r["text"] for r in train], [r["label"] for r in train])
    on_validation = regression.score(baseline.embed([r["text"] for r in validation]), [r["label"] for r in validation])
    on_hidden = regression.score(baseline.embed(hidden_texts), hidden_labels)
    assert (on_validation, on_hidden) == pytest.approx(
        (frozen["baseline_validation_accuracy"], frozen["baseline_accuracy"])
    )
    assert abs(on_validation - on_hidden) <= SPLIT_AGREEMENT


def test_splits_are_balanced_and_disjoint():
    train = read_jsonl(ASSIGNMENT / "data" / "train.jsonl")
    validation = read_jsonl(ASSIGNMENT / "data" / "validation.jsonl")
    hidden_texts = json.loads((PROBE_DATA / "hidden_texts.json").read_text(encoding="utf-8"))
    hidden_labels = json.loads((JUDGE / "hidden_labels.json").read_text(encoding="utf-8"))
    label_count = len(json.loads((ASSIGNMENT / "data" / "labels.json").read_text(encoding="utf-8")))
    assert len(hidden_texts) == len(hidden_labels)
    for labels in ([r["label"] for r in train], [r["label"] for r in validation], hidden_labels):
        counts = [labels.count(label) for label in range(label_count)]
        assert len(set(counts)) == 1 and counts[0] > 0, counts
    public = {r["text"] for r in train} | {r["text"] for r in validation}
    assert public.isdisjoint(hidden_texts)
    assert {r["text"] for r in train}.isdisjoint(r["text"] for r in validation)


def test_probe_data_and_handout_hold_no_hidden_labels():
    hidden_texts = json.loads((PROBE_DATA / "hidden_texts.json").read_text(encoding="utf-8"))
    assert all(type(text) is str for text in hidden_texts)  # texts only: no (text, label) pairs
    probe_files = {path.name for path in PROBE_DATA.iterdir()}
    assert "hidden_labels.json" not in probe_files
    # The public data files are compared text by text in test_splits_are_balanced_and_disjoint.
    handout_text = "\n".join(
        path.read_text(encoding="utf-8")
        for path in [
            ASSIGNMENT / "README.md",
            *sorted((ASSIGNMENT / "starter").rglob("*.py")),
            *sorted((ASSIGNMENT / "public_tests").rglob("*.py")),
        ]
    )
    assert not any(text in handout_text for text in hidden_texts)
