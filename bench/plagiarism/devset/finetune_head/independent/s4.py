"""Project 2, the numpy part: pooling, a softmax classification head, and the data of an attention heatmap.

Hidden states are arrays [batch, seq, hidden]; a mask is [batch, seq] with 1 for a real token and 0 for padding.
A head is a dict {"weight": [hidden, num_labels], "bias": [num_labels]}. Use only the standard library and numpy.
"""
import json
import time

import numpy as np


POOLING = ("mean", "cls")


def load_examples(path):
    """(texts, labels) from a JSON-lines file of {"text": ..., "label": ...} objects; blank lines are skipped."""
    texts, labels = [], []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                texts.append(record["text"])
                labels.append(int(record["label"]))
    return texts, labels


def init_head(hidden_size, num_labels, seed=0):
    """A fresh head: small random weights, zero bias."""
    rng = np.random.default_rng(seed)
    return {"weight": rng.normal(0.0, 0.02, (hidden_size, num_labels)), "bias": np.zeros(num_labels)}


def _check_same_length(predicted, labels):
    if len(predicted) != len(labels):
        raise ValueError(f"length mismatch: {len(predicted)} predictions, {len(labels)} labels")
    if not len(labels):
        raise ValueError("no examples to score")


def _batches(order, size):
    """Consecutive slices of `order`, the last one possibly shorter."""
    for offset in range(0, len(order), size):
        yield order[offset:offset + size]


def pool(hidden, mask, mode="mean"):
    """[batch, hidden] text vectors. "mean" averages the real tokens only (padding must not leak in; a row without
    real tokens gives zeros); "cls" takes the first token. Any other mode is a ValueError."""
    if mode not in POOLING:
        raise ValueError(f"pooling must be one of {POOLING}, not {mode!r}")
    states = np.asarray(hidden, dtype=float)
    if mode == "cls":
        return np.array(states[:, 0, :])
    keep = np.asarray(mask, dtype=float)
    sums = np.matmul(keep[:, None, :], states)[:, 0, :]
    lengths = keep.sum(axis=1)[:, None]
    return np.divide(sums, lengths, out=np.zeros_like(sums), where=lengths > 0)


def softmax(logits):
    """Row-wise softmax of a [n, k] array, stable for large logits; every row sums to 1."""
    values = np.asarray(logits, dtype=float)
    values = np.exp(values - values.max(axis=1)[:, None])
    return values / values.sum(axis=1)[:, None]


def predict_proba(head, features):
    """[n, num_labels] class probabilities of the head for [n, hidden] features."""
    return softmax(np.add(np.dot(features, head["weight"]), head["bias"]))


def predict(head, features):
    """The most probable label (a Python int) for each row of features; a tie goes to the lowest label."""
    return list(map(int, np.argmax(predict_proba(head, features), axis=-1)))


def accuracy(predicted, labels):
    """The fraction of positions where predicted equals labels; ValueError when the lengths differ or are zero."""
    _check_same_length(predicted, labels)
    return sum(map(lambda pair: pair[0] == pair[1], zip(predicted, labels))) / len(labels)


def loss_and_gradients(head, features, labels):
    """The mean cross-entropy of the head on (features, labels) and its gradients {"weight": ..., "bias": ...}."""
    x = np.asarray(features, dtype=float)
    y = np.asarray(labels, dtype=int)
    probabilities = predict_proba(head, x)
    picked = np.take_along_axis(probabilities, y[:, None], axis=1)[:, 0]
    loss = float(np.mean(-np.log(np.maximum(picked, 1e-12))))
    targets = np.eye(probabilities.shape[1])[y]
    residual = (probabilities - targets) / len(y)
    return loss, {"weight": x.T @ residual, "bias": residual.sum(axis=0)}


def train_head(features, labels, num_labels, epochs=2, batch_size=16, learning_rate=0.5, seed=0, time_budget_s=60.0):
    """Train init_head(hidden, num_labels, seed) by mini-batch gradient descent on the mean cross-entropy.

    Each epoch visits the examples in a new order, shuffled by a generator seeded with `seed`; the last batch of an
    epoch may be smaller. No batch starts once time_budget_s seconds have passed since the call: the head trained so
    far is returned.
    """
    began = time.perf_counter()
    x = np.asarray(features, dtype=float)
    y = np.asarray(labels, dtype=int)
    head = init_head(x.shape[1], num_labels, seed)
    generator = np.random.default_rng(seed)
    orders = (generator.permutation(len(y)) for _ in range(epochs))
    steps = (batch for order in orders for batch in _batches(order, batch_size))
    for batch in steps:
        if time.perf_counter() - began >= time_budget_s:
            break
        grads = loss_and_gradients(head, x[batch], y[batch])[1]
        head["weight"] = head["weight"] - learning_rate * grads["weight"]
        head["bias"] = head["bias"] - learning_rate * grads["bias"]
    return head


def attention_heatmap(attention, tokens, layer=-1, head=None):
    """The data of one heatmap from attention [layers, heads, seq, seq]: that layer, one head or (head=None) the
    mean over heads, every row renormalised to sum to 1. Returns {"matrix": [seq, seq], "x_labels": the keys,
    "y_labels": the queries}; a label is the token with its position ("0:[CLS]") so that repeated tokens stay
    apart. ValueError when len(tokens) is not seq."""
    per_head = np.asarray(attention, dtype=float)[layer]
    if per_head.shape[-2] != len(tokens):
        raise ValueError(f"expected {per_head.shape[-2]} tokens for this attention, got {len(tokens)}")
    weights = np.mean(per_head, axis=0) if head is None else per_head[head]
    weights = weights / weights.sum(axis=1)[:, None]
    labelled = [f"{position}:{token}" for position, token in enumerate(tokens)]
    return dict(matrix=weights, x_labels=labelled, y_labels=list(labelled))


def main():
    rng = np.random.default_rng(0)
    hidden = rng.normal(size=(96, 7, 8))
    mask = (rng.random((96, 7)) < 0.8).astype(int)
    mask[:, 0] = 1
    labels = [int(row[0, :4].argmax()) for row in hidden]
    features = pool(hidden, mask, mode="mean")
    trained = train_head(features, labels, num_labels=4, epochs=20, time_budget_s=5.0)
    print("train accuracy", accuracy(predict(trained, features), labels))
    tokens = ["[CLS]", "the", "cat", "sat", "the", "mat", "[SEP]"]
    heatmap = attention_heatmap(rng.random((2, 3, 7, 7)), tokens)
    print(heatmap["x_labels"], heatmap["matrix"].sum(axis=1))


if __name__ == "__main__":
    main()
