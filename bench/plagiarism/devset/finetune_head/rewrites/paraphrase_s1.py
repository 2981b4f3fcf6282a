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


def pool(hidden, mask, mode="mean"):
    """[batch, hidden] text vectors. "mean" averages the real tokens only (padding must not leak in; a row without
    real tokens gives zeros); "cls" takes the first token. Any other mode is a ValueError."""
    states = np.asarray(hidden, dtype=float)
    if mode == "cls":
        return np.copy(states[:, 0, :])
    if mode != "mean":
        raise ValueError(f"pooling {mode!r} is unknown: pass 'mean' or 'cls'")
    real = np.asarray(mask, dtype=float)[..., np.newaxis]
    totals = np.sum(states * real, axis=1)
    sizes = np.sum(real, axis=1)
    # all-padding rows keep a zero total; dividing by at least one avoids 0/0
    return totals / np.clip(sizes, 1.0, None)


def softmax(logits):
    """Row-wise softmax of a [n, k] array, stable for large logits; every row sums to 1."""
    scores = np.asarray(logits, dtype=float)
    stable = scores - np.amax(scores, axis=1, keepdims=True)
    powered = np.exp(stable)
    return powered / np.sum(powered, axis=1, keepdims=True)


def predict_proba(head, features):
    """[n, num_labels] class probabilities of the head for [n, hidden] features."""
    scores = np.matmul(np.asarray(features, dtype=float), head["weight"]) + head["bias"]
    return softmax(scores)


def predict(head, features):
    """The most probable label (a Python int) for each row of features; a tie goes to the lowest label."""
    chances = predict_proba(head, features)
    return [int(best) for best in np.argmax(chances, axis=1)]


def accuracy(predicted, labels):
    """The fraction of positions where predicted equals labels; ValueError when the lengths differ or are zero."""
    if len(labels) != len(predicted):
        raise ValueError(f"cannot score {len(predicted)} predictions against {len(labels)} labels")
    if not len(labels):
        raise ValueError("cannot score an empty set of examples")
    matches = len([None for guess, gold in zip(predicted, labels) if guess == gold])
    return matches / len(labels)


def loss_and_gradients(head, features, labels):
    """The mean cross-entropy of the head on (features, labels) and its gradients {"weight": ..., "bias": ...}."""
    inputs = np.asarray(features, dtype=float)
    gold = np.asarray(labels, dtype=int)
    count = inputs.shape[0]
    rows = np.arange(count)
    chances = predict_proba(head, inputs)
    loss = -np.log(chances[rows, gold] + 1e-12).mean()
    # gradient of the loss wrt the scores: predicted minus target distribution, over the batch size
    slope = np.array(chances)
    slope[rows, gold] = slope[rows, gold] - 1.0
    slope = slope / count
    return float(loss), {"weight": np.matmul(inputs.T, slope), "bias": np.sum(slope, axis=0)}


def train_head(features, labels, num_labels, epochs=2, batch_size=16, learning_rate=0.5, seed=0, time_budget_s=60.0):
    """Train init_head(hidden, num_labels, seed) by mini-batch gradient descent on the mean cross-entropy.

    Each epoch visits the examples in a new order, shuffled by a generator seeded with `seed`; the last batch of an
    epoch may be smaller. No batch starts once time_budget_s seconds have passed since the call: the head trained so
    far is returned.
    """
    began = time.perf_counter()
    inputs = np.asarray(features, dtype=float)
    gold = np.asarray(labels, dtype=int)
    model = init_head(inputs.shape[1], num_labels, seed)
    generator = np.random.default_rng(seed)
    count = len(gold)
    for _ in range(epochs):
        visit = generator.permutation(count)
        for offset in range(0, count, batch_size):
            if time.perf_counter() - began >= time_budget_s:
                return model
            picked = visit[offset:offset + batch_size]
            _, slopes = loss_and_gradients(model, inputs[picked], gold[picked])
            model["weight"] -= learning_rate * slopes["weight"]
            model["bias"] -= learning_rate * slopes["bias"]
    return model


def attention_heatmap(attention, tokens, layer=-1, head=None):
    """The data of one heatmap from attention [layers, heads, seq, seq]: that layer, one head or (head=None) the
    mean over heads, every row renormalised to sum to 1. Returns {"matrix": [seq, seq], "x_labels": the keys,
    "y_labels": the queries}; a label is the token with its position ("0:[CLS]") so that repeated tokens stay
    apart. ValueError when len(tokens) is not seq."""
    layer_maps = np.asarray(attention, dtype=float)[layer]
    grid = layer_maps.mean(axis=0) if head is None else layer_maps[head]
    if grid.shape[0] != len(tokens):
        raise ValueError(f"the {grid.shape[0]}x{grid.shape[1]} map needs {grid.shape[0]} tokens, got {len(tokens)}")
    grid = grid / np.sum(grid, axis=1, keepdims=True)
    ticks = [f"{place}:{piece}" for place, piece in enumerate(tokens)]
    return {"matrix": grid, "x_labels": ticks, "y_labels": ticks.copy()}


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
