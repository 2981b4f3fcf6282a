"""Project 3 judge: hidden checks over what the probe emitted (chunk tables, retrievals, answers, timings).

The probe runs in the sandbox's trusted driver and reads the student's objects one plain field at a time, so every
value here is either a raw output of the student's code on an input the driver chose (chunk fields, retrieved chunks
and scores, answer texts and citations, search results) or something the driver measured itself (search and add
times with its own clock, the files save() left on disk, the latency test's seed); everything verified (recall,
coverage, citation precision, exact top-k) is computed here.

Expected values live here only: the judge's own copy of the corpus (documents.json), the gold passages of the hidden
questions (gold.json: id -> [[source, start, end], ...], empty for a question the corpus cannot answer), read in
records.py, and the thresholds beside each check (here and in latency_checks.py), set from the reference solution's
measured results with a margin (bench/RESULTS.md, Project 3).
"""

from latency_checks import latency_results_correct, latency_within_budget
from records import (
    ADDED,
    ADDED_QUESTIONS,
    BLANK_DOCUMENTS,
    GOLD,
    MAIN,
    MAIN_QUESTIONS,
    MAX_CHUNK_CHARS,
    NOT_FOUND_ANSWER,
    UNSUPPORTED,
    K,
    answers,
    chunk_table,
    holds_gold,
    invalid_chunks,
    main_system,
    recall_at_k,
    require_consistent,
    result_rows,
    results_by_question,
    same_results,
    uncovered_characters,
    valid_ids,
)

from grader.judge import Failed, ProbeData, check

# The grader collects every check named in this module, the imported ones too.
__all__ = ["latency_results_correct", "latency_within_budget"]

K_CONTRACT = (1, 3, 8)
ORDER_TOLERANCE = 1e-6  # results are best first up to float rounding of equal scores

RECALL_AT_5_MIN = 0.65
ADDED_RECALL_AT_5_MIN = 0.66
GROUNDED_ANSWERS_MIN = 0.35  # mean citation precision: citing every retrieved chunk does not pay
ANSWERABLE_NOT_FOUND_MAX = 0.25


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
