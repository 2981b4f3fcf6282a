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


def _log_normaliser(table):
    peak = np.max(table, axis=1, keepdims=True)
    return peak + np.log(np.sum(np.exp(table - peak), axis=1, keepdims=True))


def pool(hidden, mask, mode="mean"):
    """[batch, hidden] text vectors. "mean" averages the real tokens only (padding must not leak in; a row without
    real tokens gives zeros); "cls" takes the first token. Any other mode is a ValueError."""
    if mode != "mean" and mode != "cls":
        raise ValueError(f"pool: {mode} is not a pooling mode; choose mean or cls")
    count, _, dim = np.shape(hidden)
    pooled = np.zeros((count, dim))
    for row in range(count):
        tokens_here = np.asarray(hidden[row], dtype=float)
        if mode == "cls":
            pooled[row] = tokens_here[0]
        else:
            real = np.asarray(mask[row]) != 0
            if np.any(real):
                pooled[row] = np.mean(tokens_here[real], axis=0)
    return pooled


def softmax(logits):
    """Row-wise softmax of a [n, k] array, stable for large logits; every row sums to 1."""
    table = np.asarray(logits, dtype=float)
    return np.exp(table - _log_normaliser(table))


def predict_proba(head, features):
    """[n, num_labels] class probabilities of the head for [n, hidden] features."""
    table = np.asarray(features, dtype=float) @ head["weight"] + head["bias"]
    return softmax(table)


def predict(head, features):
    """The most probable label (a Python int) for each row of features; a tie goes to the lowest label."""
    answers = []
    for probs in predict_proba(head, features):
        winner = 0
        for candidate, value in enumerate(probs):
            if value > probs[winner]:
                winner = candidate
        answers.append(winner)
    return answers


def accuracy(predicted, labels):
    """The fraction of positions where predicted equals labels; ValueError when the lengths differ or are zero."""
    if len(labels) != len(predicted):
        raise ValueError("accuracy: the two sequences have different lengths")
    if not len(labels):
        raise ValueError("accuracy: the sequences are empty")
    return float((np.asarray(predicted) == np.asarray(labels)).mean())


def loss_and_gradients(head, features, labels):
    """The mean cross-entropy of the head on (features, labels) and its gradients {"weight": ..., "bias": ...}."""
    inputs = np.asarray(features, dtype=float)
    gold = np.asarray(labels, dtype=int)
    table = inputs @ head["weight"] + head["bias"]
    logp = table - _log_normaliser(table)
    where = np.arange(gold.shape[0])
    cost = -np.mean(logp[where, gold])
    delta = np.exp(logp)
    delta[where, gold] = delta[where, gold] - 1
    delta = delta / gold.shape[0]
    return float(cost), {"weight": np.einsum("nd,nc->dc", inputs, delta), "bias": np.sum(delta, axis=0)}


def train_head(features, labels, num_labels, epochs=2, batch_size=16, learning_rate=0.5, seed=0, time_budget_s=60.0):
    """Train init_head(hidden, num_labels, seed) by mini-batch gradient descent on the mean cross-entropy.

    Each epoch visits the examples in a new order, shuffled by a generator seeded with `seed`; the last batch of an
    epoch may be smaller. No batch starts once time_budget_s seconds have passed since the call: the head trained so
    far is returned.
    """
    stop_at = time.monotonic() + time_budget_s
    inputs = np.asarray(features, dtype=float)
    gold = np.asarray(labels, dtype=int)
    current = init_head(inputs.shape[1], num_labels, seed)
    mixer = np.random.default_rng(seed)
    visit = list(range(len(gold)))
    rounds_left = epochs
    while rounds_left > 0:
        mixer.shuffle(visit)
        cursor = 0
        while cursor < len(visit):
            if time.monotonic() >= stop_at:
                return current
            group = visit[cursor:cursor + batch_size]
            cursor = cursor + batch_size
            step = loss_and_gradients(current, inputs[group], gold[group])[1]
            current = {part: current[part] - learning_rate * step[part] for part in current}
        rounds_left -= 1
    return current


def attention_heatmap(attention, tokens, layer=-1, head=None):
    """The data of one heatmap from attention [layers, heads, seq, seq]: that layer, one head or (head=None) the
    mean over heads, every row renormalised to sum to 1. Returns {"matrix": [seq, seq], "x_labels": the keys,
    "y_labels": the queries}; a label is the token with its position ("0:[CLS]") so that repeated tokens stay
    apart. ValueError when len(tokens) is not seq."""
    maps = np.asarray(attention, dtype=float)
    if len(tokens) != maps.shape[-1]:
        raise ValueError(f"attention_heatmap: the maps are {maps.shape[-1]} wide, {len(tokens)} tokens were given")
    picked = maps[layer]
    if head is not None:
        picked = picked[[head]]
    grid = np.sum(picked, axis=0)
    grid = np.array([line / np.sum(line) for line in grid])
    names = ["{}:{}".format(spot, word) for spot, word in enumerate(tokens)]
    return {"matrix": grid, "x_labels": names, "y_labels": names.copy()}


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
