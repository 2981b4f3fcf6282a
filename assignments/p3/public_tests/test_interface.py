"""The interface of project 3 on tiny made-up documents. Passing these is necessary, not sufficient, for full marks."""

from __future__ import annotations

import numpy as np
import pytest

LONG_TEXT = "\n\n".join(
    f"Paragraph {number}. " + " ".join(f"word{number}_{index}" for index in range(60)) for number in range(40))


def test_not_found_answer_is_the_documented_text(solution):
    assert solution.NOT_FOUND_ANSWER == "I could not find the answer in the provided documents."


def test_chunks_are_exact_slices_of_their_document(solution):
    chunks = solution.chunk_document("long.txt", LONG_TEXT)
    assert chunks
    for chunk in chunks:
        assert chunk.source == "long.txt"
        assert LONG_TEXT[chunk.start:chunk.end] == chunk.text
        assert len(chunk.text) <= solution.MAX_CHUNK_CHARS


def test_chunks_cover_every_non_whitespace_character(solution):
    covered = np.zeros(len(LONG_TEXT), dtype=bool)
    for chunk in solution.chunk_document("long.txt", LONG_TEXT):
        covered[chunk.start:chunk.end] = True
    lost = [index for index, character in enumerate(LONG_TEXT) if not character.isspace() and not covered[index]]
    assert lost == []


def test_long_document_is_split_into_several_chunks(solution):
    assert len(solution.chunk_document("long.txt", LONG_TEXT)) > 1


def test_embedder_returns_unit_length_float32_rows(embedder):
    vectors = embedder.encode(["a first sentence", "a second, different sentence"])
    assert vectors.dtype == np.float32
    assert vectors.shape == (2, embedder.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def test_vector_index_returns_best_first_and_ids_continue_across_adds(solution):
    index = solution.VectorIndex(3)
    index.add(np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float32))
    index.add(np.array([[0, 0, 1], [0.6, 0.8, 0]], dtype=np.float32))
    assert len(index) == 4
    scores, ids = index.search(np.array([[0.6, 0.8, 0]], dtype=np.float32), 3)
    assert np.asarray(ids).tolist() == [[3, 1, 0]]
    assert np.allclose(scores, [[1.0, 0.8, 0.6]], atol=1e-5)
    scores, ids = index.search(np.array([[1, 0, 0]], dtype=np.float32), 10)
    assert np.asarray(ids).shape == (1, 4)


def test_vector_index_save_and_load_give_the_same_results(solution, tmp_path):
    rows = np.random.default_rng(0).standard_normal((50, 8)).astype(np.float32)
    index = solution.VectorIndex(8)
    index.add(rows)
    index.save(tmp_path / "vectors.index")
    loaded = solution.VectorIndex.load(tmp_path / "vectors.index")
    for expected, actual in zip(index.search(rows[:5], 4), loaded.search(rows[:5], 4)):
        assert np.allclose(expected, actual)


def test_ingest_returns_chunks_that_point_into_the_documents(system, documents):
    assert {chunk.source for chunk in system.chunks} == set(documents)
    assert len({chunk.chunk_id for chunk in system.chunks}) == len(system.chunks)
    for chunk in system.chunks:
        assert documents[chunk.source][chunk.start:chunk.end] == chunk.text


@pytest.mark.parametrize("k", [1, 2, 100])
def test_retrieve_returns_min_k_distinct_chunks_best_first(system, k):
    results = system.retrieve("How often should I feed a sourdough starter?", k=k)
    assert len(results) == min(k, len(system.chunks))
    assert len({result.chunk.chunk_id for result in results}) == len(results)
    scores = [result.score for result in results]
    assert scores == sorted(scores, reverse=True)
    assert all(isinstance(score, float) for score in scores)


def test_retrieve_finds_the_document_a_question_is_about(system):
    assert system.retrieve("How long does the Moon take to orbit the Earth?", k=1)[0].chunk.source == "orbits.txt"


def test_answer_cites_only_retrieved_chunks(system):
    question = "How do I repair a punctured inner tube?"
    answer = system.answer(question, k=2)
    retrieved = {result.chunk.chunk_id for result in system.retrieve(question, k=2)}
    assert answer.text and answer.text != "I could not find the answer in the provided documents."
    assert answer.citations and set(answer.citations) <= retrieved


def test_unrelated_question_gets_the_not_found_answer(system, solution):
    answer = system.answer("Who won the football world cup in 1998?")
    assert answer.text == solution.NOT_FOUND_ANSWER
    assert answer.citations == []


def test_save_and_load_give_the_same_chunks_and_results(solution, system, embedder, tmp_path):
    system.save(tmp_path / "index")
    loaded = solution.RagSystem.load(tmp_path / "index", embedder)
    assert loaded.chunks == system.chunks
    question = "What temperature should the oven be?"
    expected = [(result.chunk.chunk_id, result.score) for result in system.retrieve(question, k=3)]
    actual = [(result.chunk.chunk_id, result.score) for result in loaded.retrieve(question, k=3)]
    assert [chunk_id for chunk_id, _ in actual] == [chunk_id for chunk_id, _ in expected]
    assert np.allclose([score for _, score in actual], [score for _, score in expected], atol=1e-5)


def test_second_ingest_appends_and_new_documents_are_searchable(solution, embedder, documents):
    rag = solution.RagSystem(embedder)
    rag.ingest({"bread.txt": documents["bread.txt"]})
    before = rag.chunks
    new = rag.ingest({"orbits.txt": documents["orbits.txt"]})
    assert new and rag.chunks == before + new
    assert rag.retrieve("What is a geostationary orbit?", k=1)[0].chunk.source == "orbits.txt"


def test_ingesting_a_source_twice_raises_value_error(solution, embedder, documents):
    rag = solution.RagSystem(embedder)
    rag.ingest({"bikes.txt": documents["bikes.txt"]})
    with pytest.raises(ValueError):
        rag.ingest({"bikes.txt": documents["bikes.txt"]})
