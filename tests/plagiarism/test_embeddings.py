from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from grader.plagiarism.embeddings import EmbeddingCache, SentenceEncoder
from tests.plagiarism.conftest import ALICE, BOB, MALLORY

REPOSITORY = Path(__file__).resolve().parents[2]


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


@pytest.mark.slow
def test_many_texts_are_encoded_in_forked_workers_with_the_same_vectors(tmp_path: Path) -> None:
    texts = [ALICE, BOB[:300], MALLORY[:120], "x = 1", "def f(a):\n    return a @ a", "y " * 400] * 3
    output = tmp_path / "vectors.npy"
    subprocess.run(
        [sys.executable, "-c", WORKER_RUN, json.dumps(texts), str(output)],
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPOSITORY)},
    )
    in_workers = np.load(output)
    in_process = SentenceEncoder("all-MiniLM-L6-v2", batch_size=4).encode(texts)
    assert np.array_equal(in_workers, in_process), "a worker computes the same bits as the process itself"
