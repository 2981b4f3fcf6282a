"""The retrieval-augmented system: ingest documents, retrieve chunks for a question, answer with citations, persist.

Chunk i of self.chunks is vector i of the index, in both memory and on disk; ingesting more documents appends to both.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from answering import Answer, Answerer, ExtractiveAnswerer
from chunking import Chunk, chunk_document
from embedding import Embedder
from vector_index import VectorIndex

INDEX_FILE = "index.faiss"
CHUNKS_FILE = "chunks.json"


@dataclass(frozen=True)
class Retrieved:
    chunk: Chunk
    score: float


class RagSystem:
    def __init__(self, embedder: Embedder, answerer: Answerer | None = None) -> None:
        self.embedder = embedder
        self.answerer = answerer or ExtractiveAnswerer()
        self._chunks: list[Chunk] = []
        self._index = VectorIndex(embedder.dim)

    @property
    def chunks(self) -> list[Chunk]:
        return list(self._chunks)

    def ingest(self, documents: dict[str, str]) -> list[Chunk]:
        known = {chunk.source for chunk in self._chunks}
        repeated = known & documents.keys()
        if repeated:
            raise ValueError(f"already ingested: {sorted(repeated)}")
        new_chunks = [chunk for source, text in documents.items() for chunk in chunk_document(source, text)]
        if new_chunks:
            self._index.add(self.embedder.encode([chunk.text for chunk in new_chunks]))
            self._chunks.extend(new_chunks)
        return new_chunks

    def retrieve(self, question: str, k: int = 5) -> list[Retrieved]:
        if not self._chunks:
            return []
        scores, ids = self._index.search(self.embedder.encode([question]), k)
        return [Retrieved(self._chunks[index], float(score)) for score, index in zip(scores[0], ids[0]) if index >= 0]

    def answer(self, question: str, k: int = 5) -> Answer:
        return self.answerer(question, self.retrieve(question, k))

    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self._index.save(directory / INDEX_FILE)
        (directory / CHUNKS_FILE).write_text(json.dumps([asdict(chunk) for chunk in self._chunks]), encoding="utf-8")

    @classmethod
    def load(cls, directory: str | Path, embedder: Embedder, answerer: Answerer | None = None) -> "RagSystem":
        directory = Path(directory)
        system = cls(embedder, answerer)
        system._index = VectorIndex.load(directory / INDEX_FILE)
        system._chunks = [Chunk(**fields) for fields in json.loads((directory / CHUNKS_FILE).read_text(encoding="utf-8"))]
        if len(system._chunks) != len(system._index):
            raise ValueError(f"{directory} is inconsistent: {len(system._chunks)} chunks, {len(system._index)} vectors")
        return system
