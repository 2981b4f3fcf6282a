"""Project 3: retrieval for retrieval-augmented generation (RAG).

No external models: use only the standard library and numpy. A chunk is a string of words;
`build_index` may return any object (dict, tuple, class, arrays) that your `top_k` understands.
"""
import re

import numpy as np

# Okapi BM25 parameters (the usual defaults)
K1 = 1.5
B = 0.75
COMMON = ("the", "of", "and", "a", "to", "in", "is", "it", "that", "for", "on", "as", "with", "was", "by")


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
    words = text.split()
    if not words:
        return []
    stride = size - overlap
    # index of the first chunk whose end reaches len(words): ceil((len - size) / stride), at least 0
    last = max(0, -(-(len(words) - size) // stride))
    return [" ".join(words[i * stride:i * stride + size]) for i in range(last + 1)]


def tokenize(text, drop_stopwords=False):
    """Lowercase word tokens (maximal runs of letters and digits); optionally drop common English stopwords."""
    pieces = [piece for piece in re.split(r"[^0-9a-z]+", text.lower()) if piece]
    if not drop_stopwords:
        return pieces
    return [piece for piece in pieces if piece not in COMMON]


def build_index(chunks):
    """Build a vector index of the chunks (TF-IDF or similar, your choice) that top_k can search."""
    # BM25 rather than TF-IDF: the idf already discounts very common words, so stopwords stay in.
    tokenized = [tokenize(chunk) for chunk in chunks]
    vocab = {}
    for tokens in tokenized:
        for token in tokens:
            vocab.setdefault(token, len(vocab))
    counts = np.zeros((len(tokenized), len(vocab)))
    for row, tokens in enumerate(tokenized):
        for token in tokens:
            counts[row, vocab[token]] += 1
    n_docs = counts.shape[0]
    doc_len = counts.sum(axis=1)
    avg_len = doc_len.mean() if n_docs else 1.0
    df = np.count_nonzero(counts, axis=0)
    idf = np.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))
    # length normalisation per chunk, then the saturated term frequency for every (chunk, term) cell
    denom = K1 * (1.0 - B + B * doc_len / max(avg_len, 1e-9))
    weights = idf * counts * (K1 + 1.0) / (counts + denom[:, None])
    return {"vocab": vocab, "weights": weights}


def top_k(index, query, k=3):
    """The k best chunks for the query as (chunk index, score) pairs, best score first (all if fewer than k)."""
    columns = [index["vocab"][t] for t in tokenize(query) if t in index["vocab"]]
    scores = index["weights"][:, columns].sum(axis=1)
    order = np.argsort(-scores, kind="stable")[:k]
    return [(int(i), float(scores[i])) for i in order]


def grounded_prompt(question, retrieved_chunks):
    """A prompt that lists the retrieved chunks as numbered sources [1], [2], ... and asks to answer the
    question only from them, citing source numbers, and to say so when the sources do not contain the answer."""
    parts = ["### Sources"]
    parts.extend("[%d] %s" % (number + 1, chunk) for number, chunk in enumerate(retrieved_chunks))
    parts.append("### Instructions")
    parts.append("Answer strictly from the sources above and cite them as [n]. "
                 "Do not use outside knowledge. If they do not contain the answer, say so.")
    parts.append("### Question\n" + question)
    return "\n".join(parts)


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
