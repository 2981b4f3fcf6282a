"""Project 3 probe. It runs in the sandbox's trusted driver, never in the student's process: `solution`, the RAG
system and every chunk, result and answer it returns are remote objects, read over the grader's channel one plain
field at a time. The probe chooses every input (the hidden corpus and questions, where the index is saved, the random
vectors of the latency test, drawn anew for every grading), times the index with its own clock, reads the saved
folder from disk itself and reloads it in a fresh student process; it decides nothing, the judge compares on the host.
"""

import json
import os
import time
from pathlib import Path

import grader_probe as gp
import numpy as np

K = 5
K_CONTRACT = (1, 3, 8)
LATENCY_VECTORS = 10_000
LATENCY_QUERIES = 50
LATENCY_DIM = 384
LATENCY_WALL_S = 10.0  # stop querying after this long: a slow index must not eat the run's time
CHUNK_FIELDS = ("chunk_id", "source", "start", "end", "text")
BLANK_DOCUMENTS = {"blank/empty.txt": "", "blank/whitespace.txt": " \n\n\t  \n"}
RESULT_CHUNK_FIELDS = ("chunk_id", "source", "start", "end")
MAX_LISTED_FILES = 10_000

solution = gp.load_solution()
batches = json.loads(gp.read_text("documents.json"))
questions = json.loads(gp.read_text("questions.json"))


def field(remote) -> object:
    """One attribute's value as the channel delivered it. What is not plain data (a str subclass, an array, any other
    object) becomes None, which the judge reports as a field of the wrong type."""
    value = gp.fetch(remote)
    if type(value) in (str, int, float, bool) or (isinstance(value, np.generic) and value.dtype.kind in "biuf"):
        return value
    return None


def items(value, what: str) -> list:
    """The items of a list the student's code returned: a list or tuple crosses by value (its objects as Remotes);
    another iterable is listed in the student's process."""
    if isinstance(value, gp.Remote):
        value = gp.as_list(value)
    if type(value) not in (list, tuple):
        raise TypeError(f"{what} must return a list, got {type(value).__name__}")
    return list(value)


def main_system():
    """The system the ingest step built (grown by the incremental step); a driver-side error when there is none."""
    if system is None:
        raise RuntimeError("there was no RAG system to use: building it and ingesting the documents failed")
    return system


def remote_object(value, what: str):
    if not isinstance(value, gp.Remote):
        raise TypeError(f"expected {what} object, got {type(value).__name__}")
    return value


def chunk_rows(system) -> list:
    return [
        [field(getattr(remote_object(chunk, "a Chunk"), name)) for name in CHUNK_FIELDS]
        for chunk in items(system.chunks, "RagSystem.chunks")
    ]


def result_rows(results) -> list:
    rows = []
    for result in items(results, "retrieve()"):
        result = remote_object(result, "a Retrieved")
        rows.append([*(field(getattr(result.chunk, name)) for name in RESULT_CHUNK_FIELDS), field(result.score)])
    return rows


def retrievals(system) -> dict:
    return {question["id"]: result_rows(system.retrieve(question["question"], k=K)) for question in questions}


def saved_files(folder: Path) -> list:
    """[relative path, size] of every regular file under the saved folder, read here from disk; links are not
    followed (the driver may read more than the student's uid)."""
    listed = []
    for root, folders, files in os.walk(folder, followlinks=False):
        for name in sorted(files):
            path = Path(root, name)
            if path.is_file() and not path.is_symlink() and len(listed) < MAX_LISTED_FILES:
                listed.append([str(path.relative_to(folder)), path.lstat().st_size])
        folders.sort()
    return listed


def unit_rows(generator: np.random.Generator, count: int) -> np.ndarray:
    rows = generator.standard_normal((count, LATENCY_DIM)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def numbers(value, what: str) -> np.ndarray:
    """An array the student's code returned (numpy, a tensor or a list of numbers), as float64, checked here."""
    if type(value) is np.ndarray or type(value) in (list, tuple) or type(value).__name__ == "Tensor":
        return np.asarray(value, dtype=np.float64).reshape(-1)
    raise TypeError(f"{what} must be a numpy array, got {type(value).__name__}")


def positions(value, what: str) -> np.ndarray:
    array = numbers(value, what)
    if not np.array_equal(array, np.round(array)) or not np.all(np.abs(array) < 2**62):
        raise TypeError(f"{what} must be whole numbers (positions of added vectors)")
    return array.astype(np.int64)


system = None
embedder = None
saved_to = None


def rebuild_if_lost() -> None:
    """Build the main system again in a fresh student process when an earlier step lost it (a timeout or a crash stops
    the process, and every object in it): the later steps need it, and would otherwise fail for a reason that is not
    theirs. The rebuilt system ingests exactly what the ingest step did."""
    global system
    if system is None or gp.is_alive(system):
        return
    system = None
    with gp.step("rebuild", timeout_s=gp.budget("ingest")) as s:
        rebuilt = solution.RagSystem(solution.Embedder(device=gp.device()))
        rebuilt.ingest(dict(batches["main"]))
        s.emit("chunks", len(items(rebuilt.chunks, "RagSystem.chunks")))
        system = rebuilt


# Every step's time limit is assignment.yaml's limits.budgets_s, stated in the handout.

with gp.step("ingest", timeout_s=gp.budget("ingest")) as s:
    embedder = solution.Embedder(device=gp.device())
    system = solution.RagSystem(embedder)
    system.ingest(dict(batches["main"]))
    s.emit("chunks", chunk_rows(system))

# A step of its own: RagSystem never encodes an empty list, so only here does encode([]) show (R11).
with gp.step("empty_encode", timeout_s=gp.budget("empty_encode")) as s:
    empty_embedder = (
        embedder if embedder is not None and gp.is_alive(embedder) else solution.Embedder(device=gp.device())
    )
    encoded = empty_embedder.encode([])
    s.emit("dim", field(empty_embedder.dim))
    s.emit("shape", list(encoded.shape) if type(encoded) is np.ndarray else None)
    s.emit("dtype", str(encoded.dtype) if type(encoded) is np.ndarray else type(encoded).__name__)

# A step of its own: the hidden corpus has no blank document, and chunking one must not raise (R2).
with gp.step("blank_documents", timeout_s=gp.budget("blank_documents")) as s:
    s.emit("max_chunk_chars", field(solution.MAX_CHUNK_CHARS))  # the interface's bound (R1), read where it is cheap
    blank_chunks = {}
    for source, text in BLANK_DOCUMENTS.items():
        chunks = items(solution.chunk_document(source, text), "chunk_document()")
        blank_chunks[source] = [
            [field(getattr(remote_object(chunk, "a Chunk"), name)) for name in CHUNK_FIELDS] for chunk in chunks
        ]
    s.emit("chunks", blank_chunks)

with gp.step("retrieval", timeout_s=gp.budget("retrieval")) as s:
    s.emit("results", retrievals(main_system()))
    probe_question = questions[0]["question"]
    s.emit("k_contract", {str(k): result_rows(main_system().retrieve(probe_question, k=k)) for k in K_CONTRACT})

with gp.step("answers", timeout_s=gp.budget("answers")) as s:
    answers = {}
    for question in questions:
        answer = remote_object(main_system().answer(question["question"], k=K), "an Answer")
        answers[question["id"]] = {
            "text": field(answer.text),
            "citations": [
                citation if type(citation) is str else None
                for citation in items(gp.fetch(answer.citations), "citations")
            ],
        }
    s.emit("answers", answers)

rebuild_if_lost()
with gp.step("save", timeout_s=gp.budget("save")) as s:
    folder = gp.scratch_folder("rag-") / "saved-index"  # a folder that does not exist yet: save() creates it
    main_system().save(str(folder))
    s.emit("created", folder.is_dir() and not folder.is_symlink())
    s.emit("files", saved_files(folder) if folder.is_dir() and not folder.is_symlink() else [])
    saved_to = folder

rebuild_if_lost()
with gp.step("incremental", timeout_s=gp.budget("incremental")) as s:
    # Grows the main system in place (after every step that needs it unchanged): old chunks and their scores must stay.
    main_system().ingest(dict(batches["incremental_first"]))
    main_system().ingest(dict(batches["incremental_second"]))
    s.emit("chunks", chunk_rows(main_system()))
    s.emit("results", retrievals(main_system()))

rebuild_if_lost()
with gp.step("duplicate_source", timeout_s=gp.budget("duplicate_source")) as s:
    # A source name already in the system must be refused with ValueError (the error's type name is recorded).
    try:
        main_system().ingest({next(iter(batches["main"])): "A document under a name the system already holds."})
        s.emit("raised", None)
    except gp.StudentError as error:
        s.emit("raised", error.error["type"])

# The saved system is loaded by a new process, which never ingested anything: what it returns came from the folder.
restarted = gp.restart_student()

with gp.step("persistence", timeout_s=gp.budget("persistence")) as s:
    if saved_to is None:
        raise RuntimeError("save() did not finish, so there was nothing to load")
    loaded = solution.RagSystem.load(str(saved_to), solution.Embedder(device=gp.device()))
    s.emit("fresh_process", restarted)
    s.emit("chunks", chunk_rows(loaded))
    s.emit("results", retrievals(loaded))

with gp.step("latency", timeout_s=gp.budget("latency")) as s:
    seed = gp.fresh_seed()  # new vectors for every grading: no submission can know the answers in advance
    generator = np.random.default_rng(seed)
    vectors = unit_rows(generator, LATENCY_VECTORS)
    queries = unit_rows(generator, LATENCY_QUERIES)
    index = solution.VectorIndex(LATENCY_DIM)
    started = time.perf_counter()
    index.add(vectors)
    add_s = time.perf_counter() - started
    ids, scores, seconds = [], [], []
    loop_started = time.perf_counter()
    for query in queries:
        if time.perf_counter() - loop_started > LATENCY_WALL_S:
            break
        started = time.perf_counter()
        returned = index.search(query[None, :], K)
        seconds.append(time.perf_counter() - started)
        if type(returned) not in (tuple, list) or len(returned) != 2:
            raise TypeError("VectorIndex.search must return a tuple (scores, ids)")
        scores.append(numbers(returned[0], "the scores of VectorIndex.search"))
        ids.append(positions(returned[1], "the ids of VectorIndex.search"))
    if any(len(row) != K for row in (*scores, *ids)):
        raise ValueError(
            f"VectorIndex.search must return {K} scores and {K} ids for one query over {LATENCY_VECTORS} vectors"
        )
    s.emit("seed", seed)
    s.emit("add_s", add_s)
    s.emit_array("ids", np.stack(ids) if ids else np.zeros((0, K), dtype=np.int64))
    s.emit_array("scores", np.stack(scores) if scores else np.zeros((0, K)))
    s.emit_array("query_s", np.asarray(seconds))

gp.done()
