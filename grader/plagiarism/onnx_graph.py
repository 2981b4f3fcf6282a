"""The default embedding model as one ONNX graph: a BERT encoder under mean pooling and normalisation, run by ONNX
Runtime with the model's own fast tokenizer, so the detector embeds code without importing torch."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from grader.plagiarism.workcache import function_version, write_version

# sentence-transformers models that are a transformer, mean pooling and L2 normalisation (all-MiniLM-L6-v2 among them).
_MEAN_POOLING_STACK = [
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
]


def is_mean_pooling_bert(directory: Path) -> bool:
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


class BertTokenizer:
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
    weights = {
        name.removeprefix("bert."): array for name, array in load_file(str(folder / "model.safetensors")).items()
    }
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
        return op(
            "Gemm",
            rows,
            constant(f"{name}.weight", weights[f"{name}.weight"]),
            constant(f"{name}.bias", weights[f"{name}.bias"]),
            transB=1,
        )

    def norm(rows: str, name: str) -> str:
        return op(
            "LayerNormalization",
            rows,
            constant(f"{name}.weight", weights[f"{name}.weight"]),
            constant(f"{name}.bias", weights[f"{name}.bias"]),
            axis=-1,
            epsilon=epsilon,
        )

    # Tokens are rows of one (batch * tokens, width) matrix; attention alone needs them per text and head.
    shape = op("Shape", "ids")
    length = op("Slice", shape, integers("from_one", [1]), integers("to_two", [2]))
    words = op("Gather", constant("words", weights["embeddings.word_embeddings.weight"]), "ids")
    positions = op(
        "Slice",
        constant("positions", weights["embeddings.position_embeddings.weight"]),
        integers("from_zero", [0]),
        length,
    )
    embedded = op(
        "Add",
        op("Add", words, constant("token_type", weights["embeddings.token_type_embeddings.weight"][0])),
        positions,
    )
    as_rows = integers("as_rows", [-1, width])
    hidden = op("Reshape", norm(embedded, "embeddings.LayerNorm"), as_rows)
    mask = op("Cast", "mask", to=TensorProto.FLOAT)
    one, half, sqrt_half = scalar("one", 1.0), scalar("half", 0.5), scalar("sqrt_half", float(1 / np.sqrt(2)))
    # A padded key's score is pushed to -1e30: its softmax weight is exactly 0, as under torch's boolean mask.
    key_bias = op(
        "Unsqueeze", op("Mul", op("Sub", one, mask), scalar("masked", -1e30)), integers("key_bias_axes", [1, 2])
    )
    per_head = op("Concat", shape, integers("head_shape", [heads, width // heads]), axis=0)
    scale = scalar("scale", float(1 / np.sqrt(width // heads)))
    for layer in range(config["num_hidden_layers"]):
        prefix = f"encoder.layer.{layer}"
        query, key, value = (
            op(
                "Transpose",
                op("Reshape", linear(hidden, f"{prefix}.attention.self.{part}"), per_head),
                perm=[0, 2, 1, 3],
            )
            for part in ("query", "key", "value")
        )
        scores = op("Add", op("Mul", op("MatMul", query, op("Transpose", key, perm=[0, 1, 3, 2])), scale), key_bias)
        attended = op(
            "Reshape", op("Transpose", op("MatMul", op("Softmax", scores, axis=-1), value), perm=[0, 2, 1, 3]), as_rows
        )
        hidden = norm(
            op("Add", linear(attended, f"{prefix}.attention.output.dense"), hidden),
            f"{prefix}.attention.output.LayerNorm",
        )
        inner = linear(hidden, f"{prefix}.intermediate.dense")
        gelu = op("Mul", op("Mul", inner, half), op("Add", one, op("Erf", op("Mul", inner, sqrt_half))))
        hidden = norm(op("Add", linear(gelu, f"{prefix}.output.dense"), hidden), f"{prefix}.output.LayerNorm")
    tokens = op("Reshape", hidden, op("Concat", shape, integers("width", [width]), axis=0))
    weight = op("Unsqueeze", mask, integers("feature_axis", [-1]))
    token_axis = integers("token_axis", [1])
    pooled = op(
        "Div",
        op("ReduceSum", op("Mul", tokens, weight), token_axis, keepdims=0),
        op("Max", op("ReduceSum", weight, token_axis, keepdims=0), scalar("least_count", 1e-9)),
    )
    length_of = op("Max", op("ReduceL2", pooled, integers("vector_axis", [1]), keepdims=1), scalar("least_norm", 1e-12))
    nodes.append(helper.make_node("Div", [pooled, length_of], ["vectors"]))
    inputs = [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "tokens"]) for name in ("ids", "mask")]
    graph = helper.make_graph(
        nodes,
        "mean_pooling_bert",
        inputs,
        [helper.make_tensor_value_info("vectors", TensorProto.FLOAT, ["batch", width])],
        initializers,
    )
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
    path = (
        folder / f"graph-{model}-{function_version(cached_bert_graph, f'{stat.st_size}/{stat.st_mtime_ns}')[:16]}.onnx"
    )
    if path.is_file():
        return path.read_bytes()
    graph = bert_graph(directory)
    write_version(path, lambda handle: handle.write(graph))
    return graph


class MeanPoolingBert:
    """The bert_graph of a model, run by ONNX Runtime on one thread with the model's own fast tokenizer.

    One thread: a process holds no runtime threads, so it may fork embedding workers at any time, and the vectors are
    the same bits in a worker and in-process.
    """

    def __init__(self, directory: str, max_tokens: int, graph: bytes | None = None):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        options.log_severity_level = 3  # warnings about the graph's own shape inference are not the user's business
        self.session = onnxruntime.InferenceSession(
            graph or bert_graph(directory), options, providers=["CPUExecutionProvider"]
        )
        self.tokenizer = BertTokenizer(directory, max_tokens)

    def token_counts(self, texts: list[str]) -> list[int]:
        return self.tokenizer.token_counts(texts)

    def encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([encoding.ids for encoding in encodings], np.int64)
        mask = np.array([encoding.attention_mask for encoding in encodings], np.int64)
        return self.session.run(["vectors"], {"ids": ids, "mask": mask})[0]
