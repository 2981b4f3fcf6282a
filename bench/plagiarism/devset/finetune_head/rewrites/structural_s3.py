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


def _logsumexp(rows):
    top = rows.max(axis=1, keepdims=True)
    return top + np.log(np.exp(rows - top).sum(axis=1, keepdims=True))


def _log_probs(head, x):
    scores = x @ head["weight"] + head["bias"]
    return scores - _logsumexp(scores)


def loss_and_gradients(head, features, labels):
    """The mean cross-entropy of the head on (features, labels) and its gradients {"weight": ..., "bias": ...}."""
    x = np.asarray(features, dtype=float)
    targets = np.asarray(labels, dtype=int)
    log_probs = _log_probs(head, x)
    rows = np.arange(len(targets))
    error = np.exp(log_probs)
    error[rows, targets] -= 1
    error /= len(targets)
    grads = {"weight": np.einsum("ni,nk->ik", x, error), "bias": error.sum(axis=0)}
    return float(-log_probs[rows, targets].mean()), grads


def train_head(features, labels, num_labels, epochs=2, batch_size=16, learning_rate=0.5, seed=0, time_budget_s=60.0):
    """Train init_head(hidden, num_labels, seed) by mini-batch gradient descent on the mean cross-entropy.

    Each epoch visits the examples in a new order, shuffled by a generator seeded with `seed`; the last batch of an
    epoch may be smaller. No batch starts once time_budget_s seconds have passed since the call: the head trained so
    far is returned.
    """
    deadline = time.monotonic() + time_budget_s
    x = np.asarray(features, dtype=float)
    y = np.asarray(labels, dtype=int)
    model = init_head(x.shape[1], num_labels, seed)
    shuffler = np.random.default_rng(seed)
    indices = list(range(len(y)))
    for epoch in range(epochs):
        shuffler.shuffle(indices)
        for position in range(0, len(indices), batch_size):
            if time.monotonic() >= deadline:
                return model
            chosen = indices[position:position + batch_size]
            grads = loss_and_gradients(model, x[chosen], y[chosen])[1]
            model = {name: model[name] - learning_rate * grads[name] for name in model}
    return model


def softmax(logits):
    """Row-wise softmax of a [n, k] array, stable for large logits; every row sums to 1."""
    rows = np.asarray(logits, dtype=float)
    return np.exp(rows - _logsumexp(rows))


def predict_proba(head, features):
    """[n, num_labels] class probabilities of the head for [n, hidden] features."""
    return np.exp(_log_probs(head, np.asarray(features, dtype=float)))


def _argmax_first(row):
    best = 0
    for label, value in enumerate(row):
        if value > row[best]:
            best = label
    return best


def predict(head, features):
    """The most probable label (a Python int) for each row of features; a tie goes to the lowest label."""
    return [_argmax_first(row) for row in predict_proba(head, features)]


def _pool_one(states, keep, mode):
    if mode == "cls":
        return states[0]
    if not keep.any():
        return np.zeros(states.shape[1])
    return states[keep].mean(axis=0)


def pool(hidden, mask, mode="mean"):
    """[batch, hidden] text vectors. "mean" averages the real tokens only (padding must not leak in; a row without
    real tokens gives zeros); "cls" takes the first token. Any other mode is a ValueError."""
    if mode != "mean" and mode != "cls":
        raise ValueError(f"pool: mode {mode} is not supported (use mean or cls)")
    width = np.shape(hidden)[2]
    vectors = [_pool_one(np.asarray(states, dtype=float), np.asarray(keep).astype(bool), mode) for states, keep in zip(hidden, mask)]
    return np.array(vectors, dtype=float).reshape(len(vectors), width)


def attention_heatmap(attention, tokens, layer=-1, head=None):
    """The data of one heatmap from attention [layers, heads, seq, seq]: that layer, one head or (head=None) the
    mean over heads, every row renormalised to sum to 1. Returns {"matrix": [seq, seq], "x_labels": the keys,
    "y_labels": the queries}; a label is the token with its position ("0:[CLS]") so that repeated tokens stay
    apart. ValueError when len(tokens) is not seq."""
    stack = np.asarray(attention, dtype=float)
    if len(tokens) != stack.shape[-1]:
        raise ValueError(f"attention_heatmap: {len(tokens)} tokens, but seq is {stack.shape[-1]}")
    chosen = stack[layer] if head is None else stack[layer][[head]]
    matrix = chosen.sum(axis=0)
    matrix = matrix / matrix.sum(axis=1)[:, None]
    x_labels = [str(index) + ":" + str(token) for index, token in enumerate(tokens)]
    return {"matrix": matrix, "x_labels": x_labels, "y_labels": list(x_labels)}


def accuracy(predicted, labels):
    """The fraction of positions where predicted equals labels; ValueError when the lengths differ or are zero."""
    total = len(labels)
    if total == 0 and len(predicted) == 0:
        raise ValueError("accuracy: nothing to compare")
    if total != len(predicted):
        raise ValueError("accuracy: predicted and labels differ in length")
    return float(np.mean(np.asarray(predicted) == np.asarray(labels)))


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
