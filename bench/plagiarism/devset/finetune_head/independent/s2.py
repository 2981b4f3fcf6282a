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


def one_hot(labels, num_labels):
    """[n, num_labels] matrix with a single 1 per row."""
    encoded = np.zeros((len(labels), num_labels))
    encoded[np.arange(len(labels)), labels] = 1.0
    return encoded


def pool(hidden, mask, mode="mean"):
    """[batch, hidden] text vectors. "mean" averages the real tokens only (padding must not leak in; a row without
    real tokens gives zeros); "cls" takes the first token. Any other mode is a ValueError."""
    x = np.asarray(hidden, dtype=float)
    if mode == "mean":
        m = np.asarray(mask, dtype=float)
        total = np.einsum("bth,bt->bh", x, m)
        n_tokens = m.sum(axis=1, keepdims=True)
        n_tokens[n_tokens == 0] = 1.0  # empty row: the sum is 0 anyway
        return total / n_tokens
    elif mode == "cls":
        return x[:, 0].copy()
    raise ValueError("mode must be 'mean' or 'cls', got " + repr(mode))


def softmax(logits):
    """Row-wise softmax of a [n, k] array, stable for large logits; every row sums to 1."""
    z = np.asarray(logits, dtype=float)
    z = z - np.max(z, axis=-1, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=-1, keepdims=True)


def predict_proba(head, features):
    """[n, num_labels] class probabilities of the head for [n, hidden] features."""
    x = np.asarray(features, dtype=float)
    return softmax(x.dot(head["weight"]) + head["bias"])


def predict(head, features):
    """The most probable label (a Python int) for each row of features; a tie goes to the lowest label."""
    return np.argmax(predict_proba(head, features), axis=1).tolist()


def accuracy(predicted, labels):
    """The fraction of positions where predicted equals labels; ValueError when the lengths differ or are zero."""
    predicted, labels = list(predicted), list(labels)
    if not labels or len(predicted) != len(labels):
        raise ValueError("predicted and labels must be non-empty and of the same length")
    hits = 0
    for a, b in zip(predicted, labels):
        if a == b:
            hits += 1
    return hits / len(labels)


def loss_and_gradients(head, features, labels):
    """The mean cross-entropy of the head on (features, labels) and its gradients {"weight": ..., "bias": ...}."""
    x = np.asarray(features, dtype=float)
    y = one_hot(np.asarray(labels, dtype=int), head["bias"].shape[0])
    p = predict_proba(head, x)
    batch = x.shape[0]
    loss = float(-np.sum(y * np.log(np.clip(p, 1e-12, None))) / batch)
    delta = (p - y) / batch
    return loss, {"weight": x.T.dot(delta), "bias": delta.sum(axis=0)}


def train_head(features, labels, num_labels, epochs=2, batch_size=16, learning_rate=0.5, seed=0, time_budget_s=60.0):
    """Train init_head(hidden, num_labels, seed) by mini-batch gradient descent on the mean cross-entropy.

    Each epoch visits the examples in a new order, shuffled by a generator seeded with `seed`; the last batch of an
    epoch may be smaller. No batch starts once time_budget_s seconds have passed since the call: the head trained so
    far is returned.
    """
    t0 = time.time()
    x = np.asarray(features, dtype=float)
    y = np.asarray(labels, dtype=int)
    params = init_head(x.shape[1], num_labels, seed=seed)
    rng = np.random.default_rng(seed)
    out_of_time = False
    for _ in range(epochs):
        perm = rng.permutation(len(y))
        batches = [perm[i:i + batch_size] for i in range(0, len(y), batch_size)]
        for idx in batches:
            if time.time() - t0 >= time_budget_s:
                out_of_time = True
                break
            loss, g = loss_and_gradients(params, x[idx], y[idx])
            for key in ("weight", "bias"):
                params[key] = params[key] - learning_rate * g[key]
        if out_of_time:
            break
    return params


def attention_heatmap(attention, tokens, layer=-1, head=None):
    """The data of one heatmap from attention [layers, heads, seq, seq]: that layer, one head or (head=None) the
    mean over heads, every row renormalised to sum to 1. Returns {"matrix": [seq, seq], "x_labels": the keys,
    "y_labels": the queries}; a label is the token with its position ("0:[CLS]") so that repeated tokens stay
    apart. ValueError when len(tokens) is not seq."""
    maps = np.asarray(attention, dtype=float)[layer]
    m = maps.mean(axis=0) if head is None else maps[head]
    seq = m.shape[-1]
    if len(tokens) != seq:
        raise ValueError("got %d tokens but the attention covers %d positions" % (len(tokens), seq))
    row_sums = m.sum(axis=-1, keepdims=True)
    m = m / row_sums
    names = ["%d:%s" % (pos, tok) for pos, tok in enumerate(tokens)]
    return {"matrix": m, "x_labels": names, "y_labels": names[:]}


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
