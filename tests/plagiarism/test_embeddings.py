from __future__ import annotations

import numpy as np

from grader.plagiarism.embeddings import EmbeddingCache, SentenceEncoder, _MeanPoolingBert, resolve_model

from tests.plagiarism.conftest import ALICE, BOB, MALLORY


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
