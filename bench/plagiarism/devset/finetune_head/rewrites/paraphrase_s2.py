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


def indicator_rows(classes, width):
    """One row per class index, 1.0 in that column and 0.0 elsewhere."""
    table = np.zeros((len(classes), width))
    table[range(len(classes)), classes] = 1.0
    return table


def pool(hidden, mask, mode="mean"):
    """[batch, hidden] text vectors. "mean" averages the real tokens only (padding must not leak in; a row without
    real tokens gives zeros); "cls" takes the first token. Any other mode is a ValueError."""
    states = np.asarray(hidden, dtype=float)
    if mode == "cls":
        return states[:, 0].copy()
    if mode == "mean":
        keep = np.asarray(mask, dtype=float)
        summed = np.einsum("nsd,ns->nd", states, keep)
        lengths = keep.sum(axis=1, keepdims=True)
        lengths[lengths == 0] = 1.0  # nothing was summed in such a row, so any divisor works
        return summed / lengths
    raise ValueError("pooling is either 'mean' or 'cls', not " + repr(mode))


def softmax(logits):
    """Row-wise softmax of a [n, k] array, stable for large logits; every row sums to 1."""
    values = np.asarray(logits, dtype=float)
    values = np.exp(values - values.max(axis=-1, keepdims=True))
    return values / values.sum(axis=-1, keepdims=True)


def predict_proba(head, features):
    """[n, num_labels] class probabilities of the head for [n, hidden] features."""
    raw = np.asarray(features, dtype=float).dot(head["weight"])
    return softmax(raw + head["bias"])


def predict(head, features):
    """The most probable label (a Python int) for each row of features; a tie goes to the lowest label."""
    return predict_proba(head, features).argmax(axis=1).tolist()


def accuracy(predicted, labels):
    """The fraction of positions where predicted equals labels; ValueError when the lengths differ or are zero."""
    guesses, truth = list(predicted), list(labels)
    if len(guesses) != len(truth) or len(truth) == 0:
        raise ValueError("need as many predictions as labels, and at least one")
    agree = 0
    for position in range(len(truth)):
        agree += 1 if guesses[position] == truth[position] else 0
    return agree / len(truth)


def loss_and_gradients(head, features, labels):
    """The mean cross-entropy of the head on (features, labels) and its gradients {"weight": ..., "bias": ...}."""
    inputs = np.asarray(features, dtype=float)
    size = inputs.shape[0]
    target = indicator_rows(np.asarray(labels, dtype=int), head["bias"].shape[0])
    prob = predict_proba(head, inputs)
    cost = float(-(target * np.log(np.maximum(prob, 1e-12))).sum() / size)
    diff = (prob - target) / size
    return cost, {"weight": inputs.T.dot(diff), "bias": diff.sum(axis=0)}


def train_head(features, labels, num_labels, epochs=2, batch_size=16, learning_rate=0.5, seed=0, time_budget_s=60.0):
    """Train init_head(hidden, num_labels, seed) by mini-batch gradient descent on the mean cross-entropy.

    Each epoch visits the examples in a new order, shuffled by a generator seeded with `seed`; the last batch of an
    epoch may be smaller. No batch starts once time_budget_s seconds have passed since the call: the head trained so
    far is returned.
    """
    clock = time.time()
    inputs = np.asarray(features, dtype=float)
    truth = np.asarray(labels, dtype=int)
    weights = init_head(inputs.shape[1], num_labels, seed=seed)
    mixer = np.random.default_rng(seed)
    for _ in range(epochs):
        shuffled = mixer.permutation(truth.shape[0])
        chunks = [shuffled[s:s + batch_size] for s in range(0, truth.shape[0], batch_size)]
        stop = False
        for chunk in chunks:
            if time.time() - clock >= time_budget_s:
                stop = True
                break
            _, step = loss_and_gradients(weights, inputs[chunk], truth[chunk])
            weights = {part: weights[part] - learning_rate * step[part] for part in ("weight", "bias")}
        if stop:
            break
    return weights


def attention_heatmap(attention, tokens, layer=-1, head=None):
    """The data of one heatmap from attention [layers, heads, seq, seq]: that layer, one head or (head=None) the
    mean over heads, every row renormalised to sum to 1. Returns {"matrix": [seq, seq], "x_labels": the keys,
    "y_labels": the queries}; a label is the token with its position ("0:[CLS]") so that repeated tokens stay
    apart. ValueError when len(tokens) is not seq."""
    selected = np.asarray(attention, dtype=float)[layer]
    grid = selected[head] if head is not None else selected.mean(axis=0)
    width = grid.shape[-1]
    if width != len(tokens):
        raise ValueError("attention covers %d positions, %d tokens were given" % (width, len(tokens)))
    grid = grid / grid.sum(axis=-1, keepdims=True)
    marks = ["%d:%s" % pair for pair in enumerate(tokens)]
    return {"matrix": grid, "x_labels": marks, "y_labels": marks[:]}


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
