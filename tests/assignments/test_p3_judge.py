"""Project 3 judge over fabricated probe data: a faithful system passes every check, and each way of breaking (or
faking) one behaviour fails the check for it. The real path (reference and mutants in the sandbox) is check-references.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from grader.judge import Judge, ProbeData, StepData, load_judge

JUDGE_DIR = Path(__file__).resolve().parents[2] / "assignments" / "p3" / "hidden_tests" / "judge"
WINDOW = 400
LATENCY_SEED = 20261129


@pytest.fixture(scope="module")
def judge() -> Judge:
    return load_judge(JUDGE_DIR)


@pytest.fixture(scope="module")
def hidden(judge: Judge) -> dict:
    """The judge modules' own namespaces: the corpus, the gold passages and the latency data."""
    return {**judge.checks["latency_results_correct"].__globals__, **judge.checks["recall_at_5"].__globals__}


def window_chunks(documents: dict[str, str]) -> list[list]:
    return [
        [f"{source}#{start}", source, start, min(start + WINDOW, len(text)), text[start : start + WINDOW]]
        for source, text in documents.items()
        for start in range(0, len(text), WINDOW)
    ]


def ranked(rows: list[list], first: list[list], count: int) -> list[list]:
    chosen = first + [row for row in rows if row not in first]
    return [[row[0], row[1], row[2], row[3], 0.9 - 0.05 * rank] for rank, row in enumerate(chosen[:count])]


def gold_chunks(rows: list[list], spans: list[list]) -> list[list]:
    return [
        row
        for row in rows
        for source, start, end in spans
        if row[1] == source and min(row[3], end) - max(row[2], start) >= 0.5 * (end - start)
    ]


def faithful_steps(hidden: dict) -> dict[str, dict]:
    """What a correct system would emit, built from the judge's own data."""
    table = window_chunks(hidden["MAIN"])
    added = window_chunks(hidden["ADDED"])
    results = {question: ranked(table, gold_chunks(table, spans), 5) for question, spans in hidden["GOLD"].items()}
    after = {
        question: ranked(added, gold_chunks(added, hidden["GOLD"][question]), 1) + results[question][:4]
        if question in hidden["ADDED_QUESTIONS"]
        else results[question]
        for question in hidden["GOLD"]
    }
    after = copy.deepcopy(after)  # every step gets its own rows, as if parsed from its own file
    answers = {
        question: {"text": "Because the documents say so.", "citations": [results[question][0][0]]}
        if question in hidden["MAIN_QUESTIONS"]
        else {"text": hidden["NOT_FOUND_ANSWER"], "citations": []}
        for question in hidden["GOLD"]
    }
    vectors, queries = hidden["latency_data"](LATENCY_SEED)
    similarities = queries @ vectors.T
    ids = np.argsort(-similarities, axis=1)[:, :5]
    return {
        "ingest": {"values": {"chunks": table}},
        "empty_encode": {"values": {"dim": 384, "shape": [0, 384], "dtype": "float32"}},
        "blank_documents": {
            "values": {"max_chunk_chars": 2000, "chunks": {source: [] for source in hidden["BLANK_DOCUMENTS"]}}
        },
        "retrieval": {"values": {"results": results, "k_contract": {str(k): ranked(table, [], k) for k in (1, 3, 8)}}},
        "answers": {"values": {"answers": answers}},
        "save": {"values": {"created": True, "files": [["chunks.json", 41_000], ["index.faiss", 230_445]]}},
        "persistence": {
            "values": {"fresh_process": True, "chunks": copy.deepcopy(table), "results": copy.deepcopy(results)}
        },
        "incremental": {"values": {"chunks": copy.deepcopy(table + added), "results": after}},
        "duplicate_source": {"values": {"raised": "ValueError"}},
        "latency": {
            "values": {"seed": LATENCY_SEED, "add_s": 0.01},
            "arrays": {
                "ids": ids,
                "scores": np.take_along_axis(similarities, ids, axis=1),
                "query_s": np.full(len(queries), 0.002),
            },
        },
    }


def probe_data(steps: dict[str, dict]) -> ProbeData:
    return ProbeData(
        steps={
            name: StepData(name, True, step["values"], step.get("arrays", {}), None, 1.0)
            for name, step in steps.items()
        },
        finished=True,
    )


def failing(judge: Judge, steps: dict[str, dict]) -> set[str]:
    return {check for check, outcome in judge.run(probe_data(steps)).items() if not outcome.passed}


@pytest.fixture(scope="module")
def faithful(hidden: dict) -> dict[str, dict]:
    return faithful_steps(hidden)


@pytest.fixture
def steps(faithful: dict[str, dict]) -> dict[str, dict]:
    return copy.deepcopy(faithful)


def first_main_question(hidden: dict) -> str:
    return hidden["MAIN_QUESTIONS"][0]


def test_a_faithful_system_passes_every_check(judge, steps):
    assert failing(judge, steps) == set()


def test_chunk_text_that_differs_from_the_document_fails_offsets(judge, steps):
    steps["ingest"]["values"]["chunks"][3][4] = steps["ingest"]["values"]["chunks"][3][4].upper()
    assert "chunk_offsets" in failing(judge, steps)


def test_a_whitespace_chunk_of_a_blank_document_passes(judge, steps, hidden):
    source, text = "blank/whitespace.txt", hidden["BLANK_DOCUMENTS"]["blank/whitespace.txt"]
    steps["blank_documents"]["values"]["chunks"][source] = [[f"{source}#0", source, 0, len(text), text]]
    assert failing(judge, steps) == set()


def test_chunk_document_raising_on_a_blank_document_fails_blank_documents(judge, steps):
    del steps["blank_documents"]  # the step raised, so it reported nothing
    assert failing(judge, steps) == {"blank_documents", "max_chunk_chars"}


@pytest.mark.parametrize("declared", [4000, None, 2000.0])
def test_a_max_chunk_chars_other_than_the_interfaces_fails_only_its_check(judge, steps, declared):
    steps["blank_documents"]["values"]["max_chunk_chars"] = declared
    assert failing(judge, steps) == {"max_chunk_chars"}


def test_a_chunk_of_an_empty_document_fails_blank_documents(judge, steps):
    source = "blank/empty.txt"
    steps["blank_documents"]["values"]["chunks"][source] = [[f"{source}#0", source, 0, 1, " "]]
    assert failing(judge, steps) == {"blank_documents"}


@pytest.mark.parametrize(
    "shape, dtype", [([1, 384], "float32"), ([0], "float32"), ([0, 384], "float64"), (None, "list")]
)
def test_encode_of_an_empty_list_other_than_an_empty_float32_matrix_fails(judge, steps, shape, dtype):
    steps["empty_encode"]["values"].update(shape=shape, dtype=dtype)
    assert failing(judge, steps) == {"empty_encode"}


def test_a_gap_between_chunks_fails_coverage(judge, steps):
    del steps["ingest"]["values"]["chunks"][5]
    assert "chunk_coverage" in failing(judge, steps)


def test_unsorted_results_fail_ranked_results(judge, steps, hidden):
    question = first_main_question(hidden)
    steps["retrieval"]["values"]["results"][question].reverse()
    assert "ranked_results" in failing(judge, steps)


def test_claimed_gold_spans_that_are_not_chunks_of_the_system_fail_retrieval(judge, steps, hidden):
    for question in hidden["MAIN_QUESTIONS"]:
        source, start, end = hidden["GOLD"][question][0]
        steps["retrieval"]["values"]["results"][question][0][1:4] = [source, start, end]
    assert {"ranked_results", "recall_at_5"} <= failing(judge, steps)


def test_low_recall_fails_recall(judge, steps, hidden):
    table = steps["ingest"]["values"]["chunks"]
    for question in hidden["MAIN_QUESTIONS"]:
        wrong = [row for row in table if row[1] != hidden["GOLD"][question][0][0]]
        steps["retrieval"]["values"]["results"][question] = ranked(wrong, [], 5)
    assert "recall_at_5" in failing(judge, steps)


def test_a_reload_with_other_scores_fails_persistence(judge, steps, hidden):
    reloaded = copy.deepcopy(steps["retrieval"]["values"]["results"])
    reloaded[first_main_question(hidden)][0][4] -= 0.01
    steps["persistence"]["values"]["results"] = reloaded
    assert failing(judge, steps) == {"persistence_roundtrip"}


def test_old_chunks_reranked_after_a_second_ingest_fail_incremental(judge, steps, hidden):
    steps["incremental"]["values"]["results"][first_main_question(hidden)][:2] = steps["incremental"]["values"][
        "results"
    ][first_main_question(hidden)][1::-1]
    assert failing(judge, steps) == {"incremental_ingest"}


def test_unsearchable_new_documents_fail_incremental(judge, steps, hidden):
    for question in hidden["ADDED_QUESTIONS"]:
        steps["incremental"]["values"]["results"][question] = steps["retrieval"]["values"]["results"][question]
    assert failing(judge, steps) == {"incremental_ingest"}


@pytest.mark.parametrize("raised", [None, "KeyError"])
def test_a_repeated_source_name_not_refused_with_valueerror_fails_incremental(judge, steps, raised):
    steps["duplicate_source"]["values"]["raised"] = raised
    assert failing(judge, steps) == {"duplicate_source_refused"}


def test_citing_a_chunk_that_was_not_retrieved_fails_citations(judge, steps, hidden):
    question = first_main_question(hidden)
    retrieved = {row[0] for row in steps["retrieval"]["values"]["results"][question]}
    outsider = next(row[0] for row in steps["ingest"]["values"]["chunks"] if row[0] not in retrieved)
    steps["answers"]["values"]["answers"][question]["citations"] = [outsider]
    assert "citations_from_retrieved" in failing(judge, steps)


def test_answering_an_unsupported_question_fails_not_found(judge, steps, hidden):
    question = hidden["UNSUPPORTED"][0]
    cited = steps["retrieval"]["values"]["results"][question][0][0]
    steps["answers"]["values"]["answers"][question] = {"text": "Canberra.", "citations": [cited]}
    assert failing(judge, steps) == {"not_found"}


def test_refusing_every_question_fails_not_found_and_grounding(judge, steps, hidden):
    for question in hidden["GOLD"]:
        steps["answers"]["values"]["answers"][question] = {"text": hidden["NOT_FOUND_ANSWER"], "citations": []}
    assert failing(judge, steps) == {"not_found", "answers_grounded"}


def test_wrong_neighbours_fail_latency_correctness(judge, steps):
    steps["latency"]["arrays"]["ids"] = steps["latency"]["arrays"]["ids"] + 1
    assert failing(judge, steps) == {"latency_results_correct"}


def test_slow_or_unfinished_search_fails_latency_budget(judge, steps):
    slow = copy.deepcopy(steps)
    slow["latency"]["arrays"]["query_s"] = np.full(50, 1.5)
    assert failing(judge, slow) == {"latency_within_budget"}
    unfinished = copy.deepcopy(steps)
    unfinished["latency"]["arrays"] = {key: value[:3] for key, value in steps["latency"]["arrays"].items()}
    assert failing(judge, unfinished) == {"latency_results_correct", "latency_within_budget"}


def test_a_crashed_step_fails_its_checks_with_the_students_error(judge, steps):
    data = probe_data(steps)
    crashed = StepData("answers", False, {}, {}, {"type": "KeyError", "message": "'x'", "frames": []}, 0.1)
    outcomes = judge.run(ProbeData(steps={**data.steps, "answers": crashed}, finished=True))
    assert not outcomes["not_found"].passed
    assert "KeyError" in outcomes["not_found"].student_message
    assert outcomes["recall_at_5"].passed


def test_citing_every_retrieved_chunk_does_not_pass_as_grounded(judge, steps, hidden):
    for question in hidden["MAIN_QUESTIONS"]:
        steps["answers"]["values"]["answers"][question]["citations"] = [
            row[0] for row in steps["retrieval"]["values"]["results"][question]
        ]
    assert failing(judge, steps) == {"answers_grounded"}


def test_an_empty_system_fails_every_retrieval_check(judge, steps, hidden):
    """Nothing ingested: "min(k, 0) results" and "the same results after a reload" must not pass on nothing."""
    empty = {question: [] for question in hidden["GOLD"]}
    steps["ingest"]["values"]["chunks"] = []
    steps["retrieval"]["values"] = {"results": empty, "k_contract": {"1": [], "3": [], "8": []}}
    steps["persistence"]["values"].update(chunks=[], results=copy.deepcopy(empty))
    assert {
        "chunk_offsets",
        "chunk_coverage",
        "ranked_results",
        "recall_at_5",
        "persistence_roundtrip",
        "incremental_ingest",
        "citations_from_retrieved",
        "answers_grounded",
    } <= failing(judge, steps)


def test_a_save_that_writes_nothing_fails_persistence(judge, steps):
    nothing = copy.deepcopy(steps)
    nothing["save"]["values"]["files"] = []
    assert failing(judge, nothing) == {"persistence_roundtrip"}
    not_created = copy.deepcopy(steps)
    not_created["save"]["values"].update(created=False, files=[])
    assert failing(judge, not_created) == {"persistence_roundtrip"}
    crashed = copy.deepcopy(steps)
    del crashed["save"]
    assert failing(judge, crashed) == {"persistence_roundtrip"}


def test_latency_results_are_checked_against_the_recorded_seed(judge, steps, hidden):
    """The probe draws the vectors anew for every grading: results for other vectors are wrong ones."""
    vectors, queries = hidden["latency_data"](LATENCY_SEED + 1)
    similarities = queries @ vectors.T
    ids = np.argsort(-similarities, axis=1)[:, :5]
    steps["latency"]["arrays"].update(ids=ids, scores=np.take_along_axis(similarities, ids, axis=1))
    assert failing(judge, steps) == {"latency_results_correct"}
    steps["latency"]["values"]["seed"] = LATENCY_SEED + 1
    assert failing(judge, steps) == set()


def test_chunks_that_claim_spans_they_do_not_hold_find_nothing(judge, steps, hidden):
    """One "chunk" per document claiming the whole document's span, with other text: it would contain every gold
    passage by its offsets, but only a chunk whose text is document[start:end] counts."""
    table = [[f"{source}#all", source, 0, len(text), text[:100]] for source, text in hidden["MAIN"].items()]
    by_source = {row[1]: row for row in table}
    results = {
        question: ranked(table, [by_source[spans[0][0]]] if spans and spans[0][0] in by_source else [], 5)
        for question, spans in hidden["GOLD"].items()
    }
    steps["ingest"]["values"]["chunks"] = table
    steps["retrieval"]["values"]["results"] = results
    for question in hidden["MAIN_QUESTIONS"]:
        steps["answers"]["values"]["answers"][question]["citations"] = [results[question][0][0]]
    assert {"chunk_offsets", "chunk_coverage", "recall_at_5", "answers_grounded"} <= failing(judge, steps)
