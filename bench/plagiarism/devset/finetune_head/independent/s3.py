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


def pool(hidden, mask, mode="mean"):
    """[batch, hidden] text vectors. "mean" averages the real tokens only (padding must not leak in; a row without
    real tokens gives zeros); "cls" takes the first token. Any other mode is a ValueError."""
    if mode not in ("mean", "cls"):
        raise ValueError(f"pool: mode {mode} is not supported (use mean or cls)")
    batch, _, width = np.shape(hidden)
    vectors = np.zeros((batch, width))
    for b in range(batch):
        states = np.asarray(hidden[b], dtype=float)
        if mode == "cls":
            vectors[b] = states[0]
            continue
        keep = np.asarray(mask[b]).astype(bool)
        if keep.any():
            vectors[b] = states[keep].mean(axis=0)
    return vectors


def softmax(logits):
    """Row-wise softmax of a [n, k] array, stable for large logits; every row sums to 1."""
    rows = np.asarray(logits, dtype=float)
    return np.exp(rows - _logsumexp(rows))


def predict_proba(head, features):
    """[n, num_labels] class probabilities of the head for [n, hidden] features."""
    scores = np.asarray(features, dtype=float) @ head["weight"]
    scores += head["bias"]
    return softmax(scores)


def predict(head, features):
    """The most probable label (a Python int) for each row of features; a tie goes to the lowest label."""
    result = []
    for row in predict_proba(head, features):
        best = 0
        for label in range(1, len(row)):
            if row[label] > row[best]:
                best = label
        result.append(best)
    return result


def accuracy(predicted, labels):
    """The fraction of positions where predicted equals labels; ValueError when the lengths differ or are zero."""
    total = len(labels)
    if total != len(predicted):
        raise ValueError("accuracy: predicted and labels differ in length")
    if total == 0:
        raise ValueError("accuracy: nothing to compare")
    return float(np.mean(np.asarray(predicted) == np.asarray(labels)))


def loss_and_gradients(head, features, labels):
    """The mean cross-entropy of the head on (features, labels) and its gradients {"weight": ..., "bias": ...}."""
    x = np.asarray(features, dtype=float)
    targets = np.asarray(labels, dtype=int)
    scores = x @ head["weight"] + head["bias"]
    log_probs = scores - _logsumexp(scores)
    rows = np.arange(len(targets))
    loss = -log_probs[rows, targets].mean()
    error = np.exp(log_probs)
    error[rows, targets] -= 1
    error /= len(targets)
    return float(loss), {"weight": np.einsum("ni,nk->ik", x, error), "bias": error.sum(axis=0)}


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
    epoch = 0
    while epoch < epochs:
        shuffler.shuffle(indices)
        position = 0
        while position < len(indices):
            if time.monotonic() >= deadline:
                return model
            chosen = indices[position:position + batch_size]
            position += batch_size
            _, grads = loss_and_gradients(model, x[chosen], y[chosen])
            model = {name: model[name] - learning_rate * grads[name] for name in model}
        epoch += 1
    return model


def attention_heatmap(attention, tokens, layer=-1, head=None):
    """The data of one heatmap from attention [layers, heads, seq, seq]: that layer, one head or (head=None) the
    mean over heads, every row renormalised to sum to 1. Returns {"matrix": [seq, seq], "x_labels": the keys,
    "y_labels": the queries}; a label is the token with its position ("0:[CLS]") so that repeated tokens stay
    apart. ValueError when len(tokens) is not seq."""
    stack = np.asarray(attention, dtype=float)
    if stack.shape[-1] != len(tokens):
        raise ValueError(f"attention_heatmap: {len(tokens)} tokens, but seq is {stack.shape[-1]}")
    chosen = stack[layer]
    if head is not None:
        chosen = chosen[[head]]
    matrix = chosen.sum(axis=0)
    matrix = np.stack([row / row.sum() for row in matrix])
    x_labels = []
    for index, token in enumerate(tokens):
        x_labels.append(str(index) + ":" + str(token))
    return {"matrix": matrix, "x_labels": x_labels, "y_labels": [label for label in x_labels]}


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
