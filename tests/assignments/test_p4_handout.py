"""Project 4 handout: public tests pass on the reference and fail on the starter; the hidden data is honest."""

from __future__ import annotations

import filecmp
import importlib.util
import io
import json
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENT = REPO / "assignments" / "p4"
REFERENCE = REPO / "reference_solutions" / "p4"


@pytest.fixture(scope="module")
def builder():
    path = ASSIGNMENT / "maintainer" / "build_hidden_data.py"
    spec = importlib.util.spec_from_file_location("p4_build_hidden_data", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reference_ships_the_handout_shape_generator_unchanged():
    assert filecmp.cmp(ASSIGNMENT / "starter" / "shapes.py", REFERENCE / "shapes.py", shallow=False)


def test_hidden_data_is_what_the_builder_makes(builder):
    images, scenes = builder.hidden_images()
    with np.load(ASSIGNMENT / "hidden_tests" / "probe" / "data" / "images.npz", allow_pickle=False) as shipped:
        np.testing.assert_array_equal(shipped["images"], images)
    expected = json.loads((ASSIGNMENT / "hidden_tests" / "judge" / "expected.json").read_text())
    assert expected == builder.judge_expectations(scenes)
    assert json.loads((ASSIGNMENT / "hidden_tests" / "probe" / "data" / "setup.json").read_text()) == builder.SETUP


def test_builder_is_deterministic(builder):
    first, _ = builder.hidden_images()
    second, _ = builder.hidden_images()
    assert builder.images_npz(first) == builder.images_npz(second)


def test_hidden_images_use_a_seed_the_handout_does_not(builder):
    assert builder.HIDDEN_SEED not in (0, 1)
    hidden, _ = builder.hidden_images()
    public, _ = builder.load_shapes().make_dataset(len(hidden), seed=0)
    assert not any((image == public).all(axis=(1, 2, 3)).any() for image in hidden)


def test_probe_data_holds_no_labels_or_answers():
    probe_data = ASSIGNMENT / "hidden_tests" / "probe" / "data"
    assert sorted(path.name for path in probe_data.iterdir()) == ["images.npz", "setup.json"]
    setup = json.loads((probe_data / "setup.json").read_text())
    assert not {"captions", "task_answers", "recovery_answer"} & set(setup)
    with np.load(io.BytesIO((probe_data / "images.npz").read_bytes()), allow_pickle=False) as archive:
        assert archive.files == ["images"]
