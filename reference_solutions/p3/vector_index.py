"""Exact inner-product search over unit vectors with FAISS; vector ids are insertion positions."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np


class VectorIndex:
    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.index = faiss.IndexFlatIP(dim)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def add(self, vectors: np.ndarray) -> None:
        self.index.add(as_matrix(vectors, self.dim))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores (descending) and ids of the k nearest vectors for each query row; k is capped at len(self)."""
        k = min(k, len(self))
        scores, ids = self.index.search(as_matrix(queries, self.dim), k)
        return scores, ids.astype(np.int64)

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path) -> "VectorIndex":
        index = faiss.read_index(str(path))
        loaded = cls(index.d)
        loaded.index = index
        return loaded


def as_matrix(vectors: np.ndarray, dim: int) -> np.ndarray:
    matrix = np.ascontiguousarray(np.atleast_2d(np.asarray(vectors, dtype=np.float32)))
    if matrix.shape[1] != dim:
        raise ValueError(f"expected vectors of dimension {dim}, got {matrix.shape[1]}")
    return matrix
