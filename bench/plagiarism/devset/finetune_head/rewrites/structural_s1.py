"""Project 2, the numpy part: pooling, a softmax classification head, and the data of an attention heatmap.

Hidden states are arrays [batch, seq, hidden]; a mask is [batch, seq] with 1 for a real token and 0 for padding.
A head is a dict {"weight": [hidden, num_labels], "bias": [num_labels]}. Use only the standard library and numpy.
"""
import json
import time

import numpy as np


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


def softmax(logits):
    """Row-wise softmax of a [n, k] array, stable for large logits; every row sums to 1."""
    logits = np.asarray(logits, dtype=float)
    exps = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exps / exps.sum(axis=1, keepdims=True)


def predict_proba(head, features):
    """[n, num_labels] class probabilities of the head for [n, hidden] features."""
    return softmax(np.asarray(features, dtype=float) @ head["weight"] + head["bias"])


def _dlogits(probs, labels):
    n = probs.shape[0]
    dlogits = probs.copy()
    dlogits[np.arange(n), labels] -= 1.0
    return dlogits / n


def loss_and_gradients(head, features, labels):
    """The mean cross-entropy of the head on (features, labels) and its gradients {"weight": ..., "bias": ...}."""
    features = np.asarray(features, dtype=float)
    labels = np.asarray(labels, dtype=int)
    probs = predict_proba(head, features)
    loss = -np.mean(np.log(probs[np.arange(features.shape[0]), labels] + 1e-12))
    dlogits = _dlogits(probs, labels)
    return float(loss), {"weight": features.T @ dlogits, "bias": dlogits.sum(axis=0)}


def train_head(features, labels, num_labels, epochs=2, batch_size=16, learning_rate=0.5, seed=0, time_budget_s=60.0):
    """Train init_head(hidden, num_labels, seed) by mini-batch gradient descent on the mean cross-entropy.

    Each epoch visits the examples in a new order, shuffled by a generator seeded with `seed`; the last batch of an
    epoch may be smaller. No batch starts once time_budget_s seconds have passed since the call: the head trained so
    far is returned.
    """
    start = time.perf_counter()
    features = np.asarray(features, dtype=float)
    labels = np.asarray(labels, dtype=int)
    head = init_head(features.shape[1], num_labels, seed)
    rng = np.random.default_rng(seed)
    n = len(labels)
    epoch = 0
    while epoch < epochs:
        order = rng.permutation(n)
        first = 0
        while first < n:
            if time.perf_counter() - start >= time_budget_s:
                return head
            batch = order[first:first + batch_size]
            grads = loss_and_gradients(head, features[batch], labels[batch])[1]
            for key in head:
                head[key] -= learning_rate * grads[key]
            first += batch_size
        epoch += 1
    return head


def predict(head, features):
    """The most probable label (a Python int) for each row of features; a tie goes to the lowest label."""
    labels = []
    for label in predict_proba(head, features).argmax(axis=1):
        labels.append(int(label))
    return labels


def accuracy(predicted, labels):
    """The fraction of positions where predicted equals labels; ValueError when the lengths differ or are zero."""
    if len(labels) == 0 and len(predicted) == 0:
        raise ValueError("accuracy of no examples is undefined")
    if len(predicted) != len(labels):
        raise ValueError(f"{len(predicted)} predictions for {len(labels)} labels")
    correct = 0
    for p, y in zip(predicted, labels):
        correct += p == y
    return correct / len(labels)


def _mean_pool(hidden, mask):
    weights = np.asarray(mask, dtype=float)[:, :, None]
    counts = np.maximum(weights.sum(axis=1), 1.0)
    # a row of padding only would divide by zero: it keeps its zero sum
    return (hidden * weights).sum(axis=1) / counts


def pool(hidden, mask, mode="mean"):
    """[batch, hidden] text vectors. "mean" averages the real tokens only (padding must not leak in; a row without
    real tokens gives zeros); "cls" takes the first token. Any other mode is a ValueError."""
    hidden = np.asarray(hidden, dtype=float)
    if mode == "mean":
        return _mean_pool(hidden, mask)
    if mode == "cls":
        return hidden[:, 0, :].copy()
    raise ValueError(f"unknown pooling mode {mode!r}, expected 'mean' or 'cls'")


def attention_heatmap(attention, tokens, layer=-1, head=None):
    """The data of one heatmap from attention [layers, heads, seq, seq]: that layer, one head or (head=None) the
    mean over heads, every row renormalised to sum to 1. Returns {"matrix": [seq, seq], "x_labels": the keys,
    "y_labels": the queries}; a label is the token with its position ("0:[CLS]") so that repeated tokens stay
    apart. ValueError when len(tokens) is not seq."""
    weights = np.asarray(attention, dtype=float)[layer]
    matrix = weights.mean(axis=0) if head is None else weights[head]
    if matrix.shape[0] != len(tokens):
        raise ValueError(f"{len(tokens)} tokens for a {matrix.shape[0]}x{matrix.shape[1]} attention matrix")
    labels = []
    for i, token in enumerate(tokens):
        labels.append(f"{i}:{token}")
    return {"matrix": matrix / matrix.sum(axis=1, keepdims=True), "x_labels": labels, "y_labels": labels[:]}


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
