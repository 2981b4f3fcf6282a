"""p3's judge, what its checks share: the judge's own copy of the corpus and gold passages, and the probe's chunk
tables, retrievals and answers read back as typed rows (a row of the wrong shape fails the check that reads it)."""

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.judge import Failed, ProbeData

HERE = Path(__file__).parent
BATCHES: dict[str, dict[str, str]] = json.loads((HERE / "documents.json").read_text(encoding="utf-8"))
GOLD: dict[str, list[list]] = json.loads((HERE / "gold.json").read_text(encoding="utf-8"))
MAIN = BATCHES["main"]
BLANK_DOCUMENTS = {"blank/empty.txt": "", "blank/whitespace.txt": " \n\n\t  \n"}  # the probe's, chunked alone
ADDED = {**BATCHES["incremental_first"], **BATCHES["incremental_second"]}

NOT_FOUND_ANSWER = "I could not find the answer in the provided documents."
MAX_CHUNK_CHARS = 2000
K = 5
SCORE_TOLERANCE = 1e-4
MIN_GOLD_OVERLAP = 0.5  # a chunk "contains" the gold passage when it holds at least half of it


@dataclass(frozen=True)
class ChunkRow:
    chunk_id: str
    source: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class ResultRow:
    chunk_id: str
    source: str
    start: int
    end: int
    score: float


def questions_with_gold_in(documents: dict[str, str]) -> list[str]:
    return [question for question, spans in GOLD.items() if spans and spans[0][0] in documents]


UNSUPPORTED = [question for question, spans in GOLD.items() if not spans]
MAIN_QUESTIONS = questions_with_gold_in(MAIN)
ADDED_QUESTIONS = questions_with_gold_in(ADDED)


def chunk_table(rows: object) -> list[ChunkRow]:
    if type(rows) is not list:
        raise Failed("the chunk list could not be read")
    table = []
    for row in rows:
        if type(row) is not list or len(row) != 5 or [type(field) for field in row] != [str, str, int, int, str]:
            raise Failed("every chunk needs chunk_id (str), source (str), start (int), end (int) and text (str)")
        table.append(ChunkRow(*row))
    return table


def result_rows(rows: object) -> list[ResultRow]:
    if type(rows) is not list:
        raise Failed("retrieve() results could not be read")
    results = []
    for row in rows:
        if (
            type(row) is not list
            or len(row) != 5
            or [type(field) for field in row[:4]] != [str, str, int, int]
            or type(row[4]) not in (int, float)
            or not math.isfinite(row[4])
        ):
            raise Failed("every retrieved item needs a chunk (chunk_id, source, start, end) and a finite float score")
        results.append(ResultRow(row[0], row[1], row[2], row[3], float(row[4])))
    return results


def results_by_question(step_results: object) -> dict[str, list[ResultRow]]:
    if type(step_results) is not dict or set(step_results) != set(GOLD):
        raise Failed("retrieve() was not answered for every question")
    return {question: result_rows(rows) for question, rows in step_results.items()}


def invalid_chunks(table: list[ChunkRow], documents: dict[str, str]) -> list[str]:
    problems = []
    for chunk in table:
        document = documents.get(chunk.source)
        if document is None:
            problems.append(f"{chunk.chunk_id}: unknown source {chunk.source!r}")
        elif not 0 <= chunk.start < chunk.end <= len(document):
            problems.append(f"{chunk.chunk_id}: offsets {chunk.start}:{chunk.end} outside the document")
        elif document[chunk.start : chunk.end] != chunk.text:
            problems.append(f"{chunk.chunk_id}: text differs from {chunk.source}[{chunk.start}:{chunk.end}]")
        elif len(chunk.text) > MAX_CHUNK_CHARS:
            problems.append(f"{chunk.chunk_id}: {len(chunk.text)} characters")
    return problems


def uncovered_characters(table: list[ChunkRow], documents: dict[str, str]) -> dict[str, int]:
    """Per document, how many non-whitespace characters no chunk covers."""
    lost = {}
    for source, text in documents.items():
        covered = np.zeros(len(text), dtype=bool)
        for chunk in table:
            if chunk.source == source:
                covered[max(chunk.start, 0) : max(chunk.end, 0)] = True
        visible = np.array([not character.isspace() for character in text], dtype=bool)
        missing = int(np.count_nonzero(visible & ~covered))
        if missing:
            lost[source] = missing
    return lost


def require_consistent(results: dict[str, list[ResultRow]], table: list[ChunkRow]) -> None:
    """Retrieved chunks must be chunks of the system, with the same source and offsets."""
    spans = {chunk.chunk_id: (chunk.source, chunk.start, chunk.end) for chunk in table}
    for rows in results.values():
        for row in rows:
            if spans.get(row.chunk_id) != (row.source, row.start, row.end):
                raise Failed("retrieve() returned a chunk that is not one of the system's chunks (id, source, offsets)")


def holds_gold(source: str, start: int, end: int, question: str) -> bool:
    for gold_source, gold_start, gold_end in GOLD[question]:
        overlap = min(end, gold_end) - max(start, gold_start)
        if (
            source == gold_source
            and overlap > 0
            and (overlap >= MIN_GOLD_OVERLAP * (gold_end - gold_start) or overlap == end - start)
        ):
            return True
    return False


def valid_ids(table: list[ChunkRow], documents: dict[str, str]) -> set[str]:
    """The chunks whose text is their document's text[start:end]: only they can hold a passage (a chunk that claims
    a whole document's span with other text would otherwise "find" every answer in it)."""
    return {chunk.chunk_id for chunk in table if not invalid_chunks([chunk], documents)}


def recall_at_k(results: dict[str, list[ResultRow]], questions: list[str], valid: set[str]) -> float:
    hits = sum(
        any(
            row.chunk_id in valid and holds_gold(row.source, row.start, row.end, question)
            for row in results[question][:K]
        )
        for question in questions
    )
    return hits / len(questions)


def same_results(expected: list[ResultRow], actual: list[ResultRow]) -> bool:
    return [row.chunk_id for row in expected] == [row.chunk_id for row in actual] and all(
        abs(left.score - right.score) <= SCORE_TOLERANCE for left, right in zip(expected, actual)
    )


def main_system(probe: ProbeData) -> tuple[list[ChunkRow], dict[str, list[ResultRow]]]:
    table = chunk_table(probe.step("ingest").value("chunks"))
    if not table:  # else an empty system would "return min(k, 0) results" and compare equal to itself after a reload
        raise Failed("ingest() produced no chunks, so there was nothing to retrieve")
    results = results_by_question(probe.step("retrieval").value("results"))
    require_consistent(results, table)
    return table, results


def answers(probe: ProbeData) -> dict[str, dict]:
    emitted = probe.step("answers").value("answers")
    if type(emitted) is not dict or set(emitted) != set(GOLD):
        raise Failed("answer() was not answered for every question")
    for answer in emitted.values():
        citations = answer.get("citations")
        if (
            type(answer.get("text")) is not str
            or type(citations) is not list
            or not all(type(citation) is str for citation in citations)
        ):
            raise Failed("answer() must return an Answer with text (str) and citations (list of chunk_id str)")
    return emitted
