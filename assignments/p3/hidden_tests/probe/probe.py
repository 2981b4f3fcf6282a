"""Project 3 probe: runs the student's RAG system on the hidden corpus and questions and emits what it returns.

No verdicts here: chunk tables, retrieval results, answers and timings go to the judge as plain data.
"""

import json
import tempfile
import time

# Bound before the student's code is imported, so a submission cannot slow down or fake the clock we time with.
perf_counter = time.perf_counter

import numpy as np  # noqa: E402

import grader_probe as gp  # noqa: E402

K = 5
K_CONTRACT = (1, 3, 8)
LATENCY_SEED = 20261129
LATENCY_VECTORS = 10_000
LATENCY_QUERIES = 50
LATENCY_DIM = 384
LATENCY_WALL_S = 10.0  # stop querying after this long: a slow index must not eat the run's time

solution = gp.load_solution()
batches = json.loads(gp.read_text("documents.json"))
questions = json.loads(gp.read_text("questions.json"))


def chunk_rows(chunks) -> list:
    return [[chunk.chunk_id, chunk.source, chunk.start, chunk.end, chunk.text] for chunk in chunks]


def result_rows(results) -> list:
    return [[result.chunk.chunk_id, result.chunk.source, result.chunk.start, result.chunk.end, result.score]
            for result in results]


def retrievals(system) -> dict:
    return {question["id"]: result_rows(system.retrieve(question["question"], k=K)) for question in questions}


def unit_rows(generator: np.random.Generator, count: int) -> np.ndarray:
    rows = generator.standard_normal((count, LATENCY_DIM)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


embedder = None
system = None

# Step budgets are several times what the reference needs on 2 idle cores: multi-threaded torch and FAISS slow down
# sharply when the machine is busy, and a timed-out ingest would cost a correct solution almost every point.

with gp.step("ingest", timeout_s=200) as s:
    embedder = solution.Embedder(device=gp.device())
    system = solution.RagSystem(embedder)
    system.ingest(dict(batches["main"]))
    s.emit("chunks", chunk_rows(system.chunks))

with gp.step("retrieval", timeout_s=90) as s:
    s.emit("results", retrievals(system))
    probe_question = questions[0]["question"]
    s.emit("k_contract", {str(k): result_rows(system.retrieve(probe_question, k=k)) for k in K_CONTRACT})

with gp.step("answers", timeout_s=90) as s:
    answers = {}
    for question in questions:
        answer = system.answer(question["question"], k=K)
        answers[question["id"]] = {"text": answer.text, "citations": list(answer.citations)}
    s.emit("answers", answers)

with gp.step("persistence", timeout_s=90) as s:
    folder = tempfile.mkdtemp(prefix="rag-")
    system.save(f"{folder}/saved-index")  # a folder that does not exist yet
    loaded = solution.RagSystem.load(f"{folder}/saved-index", embedder)
    s.emit("chunks", chunk_rows(loaded.chunks))
    s.emit("results", retrievals(loaded))

with gp.step("incremental", timeout_s=90) as s:
    # Grows the main system in place (after every step that needs it unchanged): old chunks and their scores must stay.
    system.ingest(dict(batches["incremental_first"]))
    system.ingest(dict(batches["incremental_second"]))
    s.emit("chunks", chunk_rows(system.chunks))
    s.emit("results", retrievals(system))

with gp.step("latency", timeout_s=30) as s:
    generator = np.random.default_rng(LATENCY_SEED)
    vectors = unit_rows(generator, LATENCY_VECTORS)
    queries = unit_rows(generator, LATENCY_QUERIES)
    index = solution.VectorIndex(LATENCY_DIM)
    started = perf_counter()
    index.add(vectors.copy())
    add_s = perf_counter() - started
    ids, scores, seconds = [], [], []
    loop_started = perf_counter()
    for query in queries:
        if perf_counter() - loop_started > LATENCY_WALL_S:
            break
        started = perf_counter()
        query_scores, query_ids = index.search(query[None, :].copy(), K)
        seconds.append(perf_counter() - started)
        scores.append(np.asarray(query_scores, dtype=np.float64).reshape(-1))
        ids.append(np.asarray(query_ids, dtype=np.int64).reshape(-1))
    s.emit("add_s", add_s)
    s.emit_array("ids", np.stack(ids) if ids else np.zeros((0, K), dtype=np.int64))
    s.emit_array("scores", np.stack(scores) if scores else np.zeros((0, K)))
    s.emit_array("query_s", np.asarray(seconds))

gp.done()
