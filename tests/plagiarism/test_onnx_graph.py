from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from grader.plagiarism import onnx_graph
from grader.plagiarism.embeddings import SentenceEncoder, resolve_model
from grader.plagiarism.onnx_graph import MeanPoolingBert
from tests.plagiarism.conftest import ALICE, BOB, MALLORY

TEXTS = [ALICE, BOB[:300], MALLORY[:120], "x = 1", "y " * 400]  # the last is cut at the 256-token limit
# TEXTS and sentence-transformers' vectors of them (`encode(TEXTS, normalize_embeddings=True)`, max_seq_length 256),
# recorded so that the quick tier checks the graph without importing torch; the slow test checks them against a run.
RECORDED = Path(__file__).resolve().parent / "data" / "minilm_vectors.npz"


def test_default_model_is_encoded_without_transformers_and_gives_the_recorded_sentence_transformers_vectors(
    encoder: SentenceEncoder,
) -> None:
    recorded = np.load(RECORDED)
    assert recorded["texts"].tolist() == TEXTS, f"TEXTS changed: record their vectors again in {RECORDED.name}"
    vectors = encoder.encode(TEXTS)
    assert isinstance(encoder._model, MeanPoolingBert)
    assert vectors.dtype == np.float32 and vectors.shape == recorded["vectors"].shape
    assert np.abs(vectors - recorded["vectors"]).max() < 1e-5


@pytest.mark.slow  # imports torch and sentence-transformers
def test_default_model_gives_the_vectors_of_a_sentence_transformers_run_as_recorded(encoder: SentenceEncoder) -> None:
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(resolve_model("all-MiniLM-L6-v2"), device="cpu")
    reference.max_seq_length = encoder.max_tokens
    expected = reference.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    assert np.abs(encoder.encode(TEXTS) - expected).max() < 1e-5
    assert np.abs(np.load(RECORDED)["vectors"] - expected).max() < 1e-5


@pytest.fixture(scope="module")
def kept_graph(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The one graph a first run builds and keeps in an empty graph folder (each build copies the model's weights)."""
    folder = tmp_path_factory.mktemp("graphs")
    SentenceEncoder("all-MiniLM-L6-v2", graph_folder=folder).encode(["x = 1"])
    (graph,) = folder.glob("graph-*.onnx")
    return graph


def test_a_kept_graph_is_read_back_by_later_runs_and_gives_the_built_graphs_vectors(
    kept_graph: Path, encoder: SentenceEncoder, tmp_path: Path, monkeypatch
) -> None:
    shutil.copy(kept_graph, tmp_path)

    def no_rebuild(directory: str) -> bytes:
        raise AssertionError("the kept graph should have been read")

    monkeypatch.setattr(onnx_graph, "bert_graph", no_rebuild)
    texts = [ALICE, "x = 1"]
    assert np.array_equal(
        SentenceEncoder("all-MiniLM-L6-v2", graph_folder=tmp_path).encode(texts), encoder.encode(texts)
    )


def test_a_graph_of_an_older_version_is_replaced(kept_graph: Path, tmp_path: Path) -> None:
    outdated = tmp_path / (kept_graph.name.rsplit("-", 1)[0] + "-0000000000000000.onnx")
    shutil.copy(kept_graph, outdated)
    SentenceEncoder("all-MiniLM-L6-v2", graph_folder=tmp_path).encode(["x = 1"])
    assert [path.name for path in tmp_path.glob("graph-*.onnx")] == [kept_graph.name]
