"""Project 3: retrieval for retrieval-augmented generation (RAG).

No external models: use only the standard library and numpy. A chunk is a string of words;
`build_index` may return any object (dict, tuple, class, arrays) that your `top_k` understands.
"""
import re

import numpy as np

# standard Okapi BM25 settings: term-frequency saturation and strength of length normalisation
SATURATION = 1.5
LENGTH_WEIGHT = 0.75
FILLER = frozenset(["the", "of", "and", "a", "to", "in", "is", "it", "that", "for", "on", "as", "with", "was", "by"])


def load_documents(path):
    """Return the documents in the file: blocks of text separated by blank lines, whitespace collapsed."""
    with open(path, encoding="utf-8") as handle:
        blocks = re.split(r"\n\s*\n", handle.read())
    return [" ".join(block.split()) for block in blocks if block.strip()]


def chunk_text(text, size=50, overlap=10):
    """Split text into chunks of `size` words; consecutive chunks share `overlap` words (0 <= overlap < size).

    Chunk i starts at word i * (size - overlap). The last chunk is the first one that reaches the end
    of the text and may be shorter. A text without words gives no chunks.
    """
    tokens = text.split()
    if len(tokens) == 0:
        return []
    hop = size - overlap
    # the final chunk is number ceil((n_words - size) / hop), clamped so that there is always one chunk
    final = max(0, -((size - len(tokens)) // hop))
    pieces = []
    for number in range(final + 1):
        begin = number * hop
        pieces.append(" ".join(tokens[begin:begin + size]))
    return pieces


def tokenize(text, drop_stopwords=False):
    """Lowercase word tokens (maximal runs of letters and digits); optionally drop common English stopwords."""
    words = list(filter(None, re.split("[^a-z0-9]+", text.lower())))
    if drop_stopwords:
        words = [word for word in words if word not in FILLER]
    return words


def build_index(chunks):
    """Build a vector index of the chunks (TF-IDF or similar, your choice) that top_k can search."""
    # scored with BM25 instead of TF-IDF; its idf already down-weights frequent words, so nothing is filtered
    docs = list(map(tokenize, chunks))
    columns = {}
    for words in docs:
        for word in words:
            if word not in columns:
                columns[word] = len(columns)
    tf = np.zeros((len(docs), len(columns)))
    for row, words in enumerate(docs):
        for col in map(columns.get, words):
            tf[row, col] += 1
    total = tf.shape[0]
    lengths = np.sum(tf, axis=1)
    mean_length = np.mean(lengths) if total else 1.0
    doc_freq = (tf != 0).sum(axis=0)
    idf = np.log(1.0 + (total - doc_freq + 0.5) / (doc_freq + 0.5))
    # per-chunk length penalty, then the saturating tf term for every chunk/term cell
    penalty = SATURATION * (1.0 - LENGTH_WEIGHT + LENGTH_WEIGHT * lengths / max(mean_length, 1e-9))
    scores = idf * tf * (SATURATION + 1.0) / (tf + penalty.reshape(-1, 1))
    return {"columns": columns, "scores": scores}


def top_k(index, query, k=3):
    """The k best chunks for the query as (chunk index, score) pairs, best score first (all if fewer than k)."""
    lookup = index["columns"]
    hits = [lookup[word] for word in tokenize(query) if word in lookup]
    totals = index["scores"][:, hits].sum(axis=1)
    best = (-totals).argsort(kind="mergesort")[:k]
    return [(int(row), float(totals[row])) for row in best]


def grounded_prompt(question, retrieved_chunks):
    """A prompt that lists the retrieved chunks as numbered sources [1], [2], ... and asks to answer the
    question only from them, citing source numbers, and to say so when the sources do not contain the answer."""
    sections = ["### Sources"]
    sections += [f"[{rank}] {passage}" for rank, passage in enumerate(retrieved_chunks, start=1)]
    sections += [
        "### Instructions",
        "Answer strictly from the sources above and cite them as [n]. "
        "Do not use outside knowledge. If they do not contain the answer, say so.",
        f"### Question\n{question}",
    ]
    return "\n".join(sections)


def main():
    documents = load_documents("documents.txt")
    chunks = [chunk for document in documents for chunk in chunk_text(document, size=40, overlap=10)]
    index = build_index(chunks)
    question = "Which gas do plants take in during photosynthesis?"
    hits = top_k(index, question, k=3)
    for position, score in hits:
        print(f"{score:.3f}  {chunks[position][:70]}")
    print(grounded_prompt(question, [chunks[position] for position, _ in hits]))


if __name__ == "__main__":
    main()
