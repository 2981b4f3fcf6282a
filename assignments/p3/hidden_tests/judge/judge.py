"""Project 3 judge: hidden checks over what the probe emitted (chunk tables, retrievals, answers, timings).

The probe runs in the sandbox's trusted driver and reads the student's objects one plain field at a time, so every
value here is either a raw output of the student's code on an input the driver chose (chunk fields, retrieved chunks
and scores, answer texts and citations, search results) or something the driver measured itself (search and add
times with its own clock, the files save() left on disk, the latency test's seed); everything verified (recall,
coverage, citation precision, exact top-k) is computed here.

Expected values live here only: the judge's own copy of the corpus (documents.json), the gold passages of the hidden
questions (gold.json: id -> [[source, start, end], ...], empty for a question the corpus cannot answer) and the
thresholds below, set from the reference solution's measured results with a margin (bench/RESULTS.md, Project 3).
"""

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.judge import Failed, ProbeData, check

HERE = Path(__file__).parent
BATCHES: dict[str, dict[str, str]] = json.loads((HERE / "documents.json").read_text(encoding="utf-8"))
GOLD: dict[str, list[list]] = json.loads((HERE / "gold.json").read_text(encoding="utf-8"))
MAIN = BATCHES["main"]
BLANK_DOCUMENTS = {"blank/empty.txt": "", "blank/whitespace.txt": " \n\n\t  \n"}  # the probe's, chunked alone
ADDED = {**BATCHES["incremental_first"], **BATCHES["incremental_second"]}

NOT_FOUND_ANSWER = "I could not find the answer in the provided documents."
MAX_CHUNK_CHARS = 2000
K = 5
K_CONTRACT = (1, 3, 8)
SCORE_TOLERANCE = 1e-4
ORDER_TOLERANCE = 1e-6  # results are best first up to float rounding of equal scores
MIN_GOLD_OVERLAP = 0.5  # a chunk "contains" the gold passage when it holds at least half of it

RECALL_AT_5_MIN = 0.65
ADDED_RECALL_AT_5_MIN = 0.66
GROUNDED_ANSWERS_MIN = 0.35  # mean citation precision: citing every retrieved chunk does not pay
ANSWERABLE_NOT_FOUND_MAX = 0.25

LATENCY_VECTORS = 10_000
LATENCY_QUERIES = 50
LATENCY_DIM = 384
QUERY_S_P20_MAX = 0.25  # the 20th percentile: robust to a busy machine, still well below a Python loop
ADD_S_MAX = 5.0


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


@check("chunk_offsets")
def chunk_offsets(probe: ProbeData) -> None:
    table = chunk_table(probe.step("ingest").value("chunks"))
    if not table:
        raise Failed("ingest() produced no chunks")
    if len({chunk.chunk_id for chunk in table}) != len(table):
        raise Failed("chunk_id values must be unique")
    problems = invalid_chunks(table, MAIN)
    if problems:
        raise Failed(
            f"{len(problems)} chunks do not match their document: chunk.text must equal "
            f"document[start:end] (and be at most {MAX_CHUNK_CHARS} characters). First: {problems[0]}"
        )


@check("max_chunk_chars")
def max_chunk_chars(probe: ProbeData) -> None:
    declared = probe.step("blank_documents").value("max_chunk_chars")
    if type(declared) is not int or declared != MAX_CHUNK_CHARS:
        raise Failed(f"solution.MAX_CHUNK_CHARS is {declared!r}: the interface fixes it at {MAX_CHUNK_CHARS} (R1)")


@check("chunk_coverage")
def chunk_coverage(probe: ProbeData) -> None:
    table = [chunk for chunk in chunk_table(probe.step("ingest").value("chunks")) if not invalid_chunks([chunk], MAIN)]
    lost = uncovered_characters(table, MAIN)
    if lost:
        raise Failed(
            f"{sum(lost.values())} non-whitespace characters in {len(lost)} of {len(MAIN)} documents "
            "are in no chunk: chunks must cover every document without gaps"
        )


@check("blank_documents")
def blank_documents(probe: ProbeData) -> None:
    chunks = probe.step("blank_documents").value("chunks")
    if type(chunks) is not dict or set(chunks) != set(BLANK_DOCUMENTS):
        raise Failed("chunk_document() was not answered for every blank document")
    problems = [problem for rows in chunks.values() for problem in invalid_chunks(chunk_table(rows), BLANK_DOCUMENTS)]
    if problems:
        raise Failed(f"chunks of an empty or whitespace-only document must be slices of it too. First: {problems[0]}")


@check("ranked_results")
def ranked_results(probe: ProbeData) -> None:
    table, results = main_system(probe)
    contract = probe.step("retrieval").value("k_contract")
    if type(contract) is not dict or set(contract) != {str(k) for k in K_CONTRACT}:
        raise Failed("retrieve() was not answered for every k")
    by_k = {int(k): result_rows(rows) for k, rows in contract.items()}
    for k, rows in [*by_k.items(), *((K, rows) for rows in results.values())]:
        if len(rows) != min(k, len(table)):
            raise Failed(f"retrieve(question, k={k}) must return min(k, number of chunks) results")
        if len({row.chunk_id for row in rows}) != len(rows):
            raise Failed("retrieve() returned the same chunk twice")
        if any(later.score > earlier.score + ORDER_TOLERANCE for earlier, later in zip(rows, rows[1:])):
            raise Failed("retrieve() results must be sorted by score, best first")
    require_consistent({str(k): rows for k, rows in by_k.items()}, table)


@check("recall_at_5")
def recall_at_5(probe: ProbeData) -> None:
    table, results = main_system(probe)
    recall = recall_at_k(results, MAIN_QUESTIONS, valid_ids(table, MAIN))
    assert recall >= RECALL_AT_5_MIN, f"recall@5 {recall:.3f} < {RECALL_AT_5_MIN}"


@check("persistence_roundtrip")
def persistence_roundtrip(probe: ProbeData) -> None:
    table, results = main_system(probe)
    saved = probe.step("save")
    if saved.value("created") is not True:
        raise Failed("save(directory) must create the directory when it does not exist")
    files = saved.value("files")
    if type(files) is not list or not any(
        type(entry) is list and len(entry) == 2 and type(entry[1]) is int and entry[1] > 0 for entry in files
    ):
        raise Failed("save(directory) wrote no file into the directory")
    step = probe.step("persistence")  # the saved folder loaded by a new process of the student's code
    if chunk_table(step.value("chunks")) != table:
        raise Failed("after save() and load() the chunks differ from the saved system's chunks")
    loaded = results_by_question(step.value("results"))
    if not all(results.values()):
        raise Failed("retrieve() returned nothing, so there was nothing to compare after save() and load()")
    differing = [question for question in GOLD if not same_results(results[question], loaded[question])]
    if differing:
        raise Failed(
            f"after save() and load(), retrieve() gives different chunks or scores for {len(differing)} "
            f"of {len(GOLD)} questions"
        )


@check("incremental_ingest")
def incremental_ingest(probe: ProbeData) -> None:
    before_table, before = main_system(probe)
    step = probe.step("incremental")
    after_table = chunk_table(step.value("chunks"))
    if after_table[: len(before_table)] != before_table:
        raise Failed("ingesting more documents changed or dropped the chunks that were already there")
    added = after_table[len(before_table) :]
    if invalid_chunks(added, ADDED) or uncovered_characters(added, ADDED):
        raise Failed("the chunks of documents ingested later do not match or do not cover those documents")
    after = results_by_question(step.value("results"))
    require_consistent(after, after_table)
    old_ids = {chunk.chunk_id for chunk in before_table}
    for question in GOLD:
        kept = [row for row in after[question] if row.chunk_id in old_ids]
        if not same_results(before[question][: len(kept)], kept):
            raise Failed("after ingesting more documents, the old chunks are ranked or scored differently")
    recall = recall_at_k(after, ADDED_QUESTIONS, valid_ids(added, ADDED))
    if recall < ADDED_RECALL_AT_5_MIN:
        raise Failed(
            "questions about documents ingested later do not find them: the new chunks do not seem to be searchable"
        )


@check("duplicate_source_refused")
def duplicate_source_refused(probe: ProbeData) -> None:
    if probe.step("duplicate_source").value("raised") != "ValueError":
        raise Failed("ingest() must raise ValueError for a source name that is already in the system")


@check("empty_encode")
def empty_encode(probe: ProbeData) -> None:
    step = probe.step("empty_encode")
    dim = step.value("dim")
    if step.value("shape") != [0, dim] or step.value("dtype") != "float32":
        raise Failed(
            f"Embedder.encode([]) must return an empty float32 numpy array of shape (0, dim); it returned "
            f"{step.value('dtype')} of shape {step.value('shape')} with dim {dim}"
        )


@check("citations_from_retrieved")
def citations_from_retrieved(probe: ProbeData) -> None:
    _, results = main_system(probe)
    for question, answer in answers(probe).items():
        if not answer["text"].strip():
            raise Failed("answer() returned an empty text")
        if not set(answer["citations"]) <= {row.chunk_id for row in results[question]}:
            raise Failed("an answer cites a chunk that retrieve() did not return for that question")
        if answer["text"] != NOT_FOUND_ANSWER and not answer["citations"]:
            raise Failed('an answer that is not the "not found" answer must cite at least one retrieved chunk')


@check("answers_grounded")
def answers_grounded(probe: ProbeData) -> None:
    """Mean over answerable questions of the share of an answer's citations that hold the gold passage."""
    table = chunk_table(probe.step("ingest").value("chunks"))
    valid = valid_ids(table, MAIN)
    spans = {chunk.chunk_id: chunk for chunk in table if chunk.chunk_id in valid}
    emitted = answers(probe)
    precision = 0.0
    for question in MAIN_QUESTIONS:
        cited = [spans[chunk_id] for chunk_id in emitted[question]["citations"] if chunk_id in spans]
        if emitted[question]["text"] != NOT_FOUND_ANSWER and cited:
            precision += sum(holds_gold(chunk.source, chunk.start, chunk.end, question) for chunk in cited) / len(
                emitted[question]["citations"]
            )
    share = precision / len(MAIN_QUESTIONS)
    if share < GROUNDED_ANSWERS_MIN:
        raise Failed(
            "too few answers cite the chunk that actually holds the answer "
            "(citing every retrieved chunk does not help: cite the chunks the answer rests on)"
        )


@check("not_found")
def not_found(probe: ProbeData) -> None:
    emitted = answers(probe)
    for question in UNSUPPORTED:
        if emitted[question]["text"] != NOT_FOUND_ANSWER or emitted[question]["citations"]:
            raise Failed("a question the documents cannot answer must get exactly NOT_FOUND_ANSWER and no citations")
    refused = sum(emitted[question]["text"] == NOT_FOUND_ANSWER for question in MAIN_QUESTIONS)
    share = refused / len(MAIN_QUESTIONS)
    if share > ANSWERABLE_NOT_FOUND_MAX:
        raise Failed('too many questions that the documents do answer got the "not found" answer')


def latency_data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The probe's random unit vectors and queries, regenerated from the seed it drew for this grading."""
    generator = np.random.default_rng(seed)

    def unit_rows(count: int) -> np.ndarray:
        rows = generator.standard_normal((count, LATENCY_DIM)).astype(np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    vectors = unit_rows(LATENCY_VECTORS)
    return vectors, unit_rows(LATENCY_QUERIES)


@check("latency_results_correct")
def latency_results_correct(probe: ProbeData) -> None:
    step = probe.step("latency")
    ids, scores = step.array("ids"), step.array("scores")
    if ids.shape != (LATENCY_QUERIES, K) or scores.shape != (LATENCY_QUERIES, K):
        raise Failed(f"VectorIndex.search did not answer every query with {K} results in time")
    seed = step.value("seed")
    if type(seed) is not int or seed < 0:
        raise Failed("the latency test's data could not be regenerated")
    vectors, queries = latency_data(seed)
    if ids.min() < 0 or ids.max() >= LATENCY_VECTORS:
        raise Failed("VectorIndex.search returned ids that are not positions of added vectors")
    similarities = queries @ vectors.T
    best = -np.sort(-similarities, axis=1)[:, :K]
    true_scores = np.take_along_axis(similarities, ids.astype(np.int64), axis=1)
    if not (np.allclose(scores, true_scores, atol=SCORE_TOLERANCE) and np.allclose(scores, best, atol=SCORE_TOLERANCE)):
        raise Failed("VectorIndex.search did not return the k vectors with the highest inner product, best first")


@check("latency_within_budget")
def latency_within_budget(probe: ProbeData) -> None:
    step = probe.step("latency")
    query_s = step.array("query_s")
    if query_s.shape != (LATENCY_QUERIES,):
        raise Failed("VectorIndex.search was too slow: not every query was answered in the time given")
    typical = float(np.quantile(query_s, 0.2))
    add_s = step.value("add_s")
    if type(add_s) is not float or add_s > ADD_S_MAX:
        raise Failed("VectorIndex.add was too slow for 10,000 vectors")
    if typical > QUERY_S_P20_MAX:
        raise Failed(
            "VectorIndex.search over 10,000 vectors was too slow: search with one matrix operation "
            "(numpy or FAISS), not a Python loop over the vectors"
        )
