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


def _steps(generator, n, epochs, batch_size):
    for _ in range(epochs):
        yield from _batches(generator.permutation(n), batch_size)


def _batches(order, size):
    """Consecutive slices of `order`, the last one possibly shorter."""
    offset = 0
    while offset < len(order):
        yield order[offset:offset + size]
        offset += size


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
    for batch in _steps(np.random.default_rng(seed), len(y), epochs, batch_size):
        if time.perf_counter() - began >= time_budget_s:
            return head
        grads = loss_and_gradients(head, x[batch], y[batch])[1]
        head = {"weight": head["weight"] - learning_rate * grads["weight"], "bias": head["bias"] - learning_rate * grads["bias"]}
    return head


def loss_and_gradients(head, features, labels):
    """The mean cross-entropy of the head on (features, labels) and its gradients {"weight": ..., "bias": ...}."""
    x = np.asarray(features, dtype=float)
    y = np.asarray(labels, dtype=int)
    probabilities = predict_proba(head, x)
    targets = np.eye(probabilities.shape[1])[y]
    picked = (probabilities * targets).sum(axis=1)
    residual = (probabilities - targets) / len(y)
    return float(np.mean(-np.log(np.maximum(picked, 1e-12)))), {"weight": x.T @ residual, "bias": residual.sum(axis=0)}


def predict_proba(head, features):
    """[n, num_labels] class probabilities of the head for [n, hidden] features."""
    scores = np.dot(features, head["weight"]) + head["bias"]
    return softmax(scores)


def softmax(logits):
    """Row-wise softmax of a [n, k] array, stable for large logits; every row sums to 1."""
    values = np.asarray(logits, dtype=float)
    values = np.exp(values - values.max(axis=1)[:, None])
    return values / values.sum(axis=1)[:, None]


def predict(head, features):
    """The most probable label (a Python int) for each row of features; a tie goes to the lowest label."""
    return [int(label) for label in np.argmax(predict_proba(head, features), axis=-1)]


def _check_same_length(predicted, labels):
    if not len(labels) and not len(predicted):
        raise ValueError("no examples to score")
    if len(predicted) != len(labels):
        raise ValueError(f"length mismatch: {len(predicted)} predictions, {len(labels)} labels")


def accuracy(predicted, labels):
    """The fraction of positions where predicted equals labels; ValueError when the lengths differ or are zero."""
    _check_same_length(predicted, labels)
    return len([1 for guess, truth in zip(predicted, labels) if guess == truth]) / len(labels)


def _mean_over_real_tokens(states, keep):
    sums = np.einsum("bt,bth->bh", keep, states)
    lengths = keep.sum(axis=1)[:, None]
    return np.divide(sums, lengths, out=np.zeros_like(sums), where=lengths > 0)


def pool(hidden, mask, mode="mean"):
    """[batch, hidden] text vectors. "mean" averages the real tokens only (padding must not leak in; a row without
    real tokens gives zeros); "cls" takes the first token. Any other mode is a ValueError."""
    if mode not in POOLING:
        raise ValueError(f"pooling must be one of {POOLING}, not {mode!r}")
    states = np.asarray(hidden, dtype=float)
    return np.array(states[:, 0, :]) if mode == "cls" else _mean_over_real_tokens(states, np.asarray(mask, dtype=float))


def attention_heatmap(attention, tokens, layer=-1, head=None):
    """The data of one heatmap from attention [layers, heads, seq, seq]: that layer, one head or (head=None) the
    mean over heads, every row renormalised to sum to 1. Returns {"matrix": [seq, seq], "x_labels": the keys,
    "y_labels": the queries}; a label is the token with its position ("0:[CLS]") so that repeated tokens stay
    apart. ValueError when len(tokens) is not seq."""
    per_head = np.asarray(attention, dtype=float)[layer]
    if len(tokens) != per_head.shape[-2]:
        raise ValueError(f"expected {per_head.shape[-2]} tokens for this attention, got {len(tokens)}")
    if head is None:
        weights = np.mean(per_head, axis=0)
    else:
        weights = per_head[head]
    labelled = list(map(lambda pair: f"{pair[0]}:{pair[1]}", enumerate(tokens)))
    return dict(matrix=weights / weights.sum(axis=1)[:, None], x_labels=labelled, y_labels=labelled.copy())


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
