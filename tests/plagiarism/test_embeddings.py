from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from grader.plagiarism import embeddings
from grader.plagiarism.embeddings import EmbeddingCache, SentenceEncoder, _MeanPoolingBert, resolve_model

from tests.plagiarism.conftest import ALICE, BOB, MALLORY

REPOSITORY = Path(__file__).resolve().parents[2]


def test_default_model_is_encoded_without_transformers_and_gives_sentence_transformers_vectors(encoder: SentenceEncoder) -> None:
    from sentence_transformers import SentenceTransformer

    texts = [ALICE, BOB[:300], MALLORY[:120], "x = 1", "y " * 400]  # the last is cut at the 256-token limit
    vectors = encoder.encode(texts)
    assert isinstance(encoder._model, _MeanPoolingBert)
    reference = SentenceTransformer(resolve_model("all-MiniLM-L6-v2"), device="cpu")
    reference.max_seq_length = encoder.max_tokens
    expected = reference.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    assert vectors.dtype == np.float32 and vectors.shape == expected.shape
    assert np.abs(vectors - expected).max() < 1e-5


def test_saving_the_embedding_cache_leaves_no_temporary_file_and_reloads_the_same_vectors(tmp_path):
    cache = EmbeddingCache(tmp_path / "cache", "some-model")
    cache.vectors["k" * 64] = np.arange(4, dtype=np.float32)
    cache.save()
    assert [path.name for path in cache.path.parent.iterdir()] == [cache.path.name]
    reloaded = EmbeddingCache(tmp_path / "cache", "some-model")
    assert np.array_equal(reloaded.vectors["k" * 64], np.arange(4, dtype=np.float32))


WORKER_RUN = """
import json, sys
import numpy as np
from grader.plagiarism import embeddings, workcache

workcache.available_cores = lambda: 2  # forked workers even on a one-core machine
embeddings.WORKERS_FROM = 2
encoder = embeddings.SentenceEncoder("all-MiniLM-L6-v2", batch_size=4)
vectors = encoder.encode(json.loads(sys.argv[1]))
assert encoder._model is None and "onnxruntime" not in sys.modules and "torch" not in sys.modules, "only the workers ran the model"
np.save(sys.argv[2], vectors)
"""


def test_many_texts_are_encoded_in_forked_workers_with_the_same_vectors(tmp_path: Path) -> None:
    texts = [ALICE, BOB[:300], MALLORY[:120], "x = 1", "def f(a):\n    return a @ a", "y " * 400] * 3
    output = tmp_path / "vectors.npy"
    subprocess.run([sys.executable, "-c", WORKER_RUN, json.dumps(texts), str(output)], check=True, env={**os.environ, "PYTHONPATH": str(REPOSITORY)})
    in_workers = np.load(output)
    in_process = SentenceEncoder("all-MiniLM-L6-v2", batch_size=4).encode(texts)
    assert np.array_equal(in_workers, in_process), "a worker computes the same bits as the process itself"


def test_the_model_graph_is_built_once_and_read_back_by_later_runs(tmp_path: Path, monkeypatch) -> None:
    texts = [ALICE, "x = 1"]
    first = SentenceEncoder("all-MiniLM-L6-v2", graph_folder=tmp_path).encode(texts)
    kept = list(tmp_path.glob("graph-*.onnx"))
    assert len(kept) == 1

    def no_rebuild(directory: str) -> bytes:
        raise AssertionError("the kept graph should have been read")

    monkeypatch.setattr(embeddings, "bert_graph", no_rebuild)
    assert np.array_equal(SentenceEncoder("all-MiniLM-L6-v2", graph_folder=tmp_path).encode(texts), first)


def test_a_graph_of_an_older_version_is_replaced(tmp_path: Path) -> None:
    SentenceEncoder("all-MiniLM-L6-v2", graph_folder=tmp_path).encode(["x = 1"])
    (current,) = tmp_path.glob("graph-*.onnx")
    outdated = current.with_name(current.name.rsplit("-", 1)[0] + "-0000000000000000.onnx")
    current.rename(outdated)
    SentenceEncoder("all-MiniLM-L6-v2", graph_folder=tmp_path).encode(["x = 1"])
    assert [path.name for path in tmp_path.glob("graph-*.onnx")] == [current.name]
