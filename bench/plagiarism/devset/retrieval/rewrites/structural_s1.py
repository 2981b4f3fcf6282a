"""Project 3: retrieval for retrieval-augmented generation (RAG).

No external models: use only the standard library and numpy. A chunk is a string of words;
`build_index` may return any object (dict, tuple, class, arrays) that your `top_k` understands.
"""
import math
import re
from collections import Counter

import numpy as np

STOPWORDS = {"a", "an", "and", "are", "as", "at", "be", "by", "do", "does", "for", "from", "how", "in", "is",
             "it", "of", "on", "or", "that", "the", "this", "to", "was", "what", "when", "which", "who", "with"}


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
    chunks = []
    for start in range(0, len(words), size - overlap):
        end = start + size
        chunks.append(" ".join(words[start:end]))
        if end >= len(words):
            return chunks
    return chunks


def tokenize(text, drop_stopwords=False):
    """Lowercase word tokens (maximal runs of letters and digits); optionally drop common English stopwords."""
    tokens = re.findall(r"[a-z0-9]+", text.lower())
    return [t for t in tokens if t not in STOPWORDS] if drop_stopwords else tokens


def tfidf_vector(tokens, idf):
    # raw term counts times idf, then L2-normalised (unknown terms are ignored)
    tf = Counter()
    for t in tokens:
        if t in idf:
            tf[t] += 1
    vec = {}
    for t, count in tf.items():
        vec[t] = count * idf[t]
    norm = math.sqrt(sum(w * w for w in vec.values()))
    return {t: w / norm for t, w in vec.items()} if norm > 0 else vec


def document_frequencies(docs):
    df = Counter()
    for doc in docs:
        for t in set(doc):
            df[t] += 1
    return df


def build_index(chunks):
    """Build a vector index of the chunks (TF-IDF or similar, your choice) that top_k can search."""
    docs = [tokenize(chunk, drop_stopwords=True) for chunk in chunks]
    n = len(docs)
    # smoothed idf, as in scikit-learn: log((1 + n) / (1 + df)) + 1
    idf = {t: math.log((1 + n) / (1 + d)) + 1 for t, d in document_frequencies(docs).items()}
    return {"idf": idf, "vectors": [tfidf_vector(doc, idf) for doc in docs]}


def top_k(index, query, k=3):
    """The k best chunks for the query as (chunk index, score) pairs, best score first (all if fewer than k)."""
    q = tfidf_vector(tokenize(query, drop_stopwords=True), index["idf"])
    scores = []
    for i, vec in enumerate(index["vectors"]):
        # both vectors have unit length, so the dot product is the cosine
        a, b = (vec, q) if len(q) > len(vec) else (q, vec)
        scores.append((i, sum(w * b.get(t, 0.0) for t, w in a.items())))
    return sorted(scores, key=lambda pair: (-pair[1], pair[0]))[:k]


def grounded_prompt(question, retrieved_chunks):
    """A prompt that lists the retrieved chunks as numbered sources [1], [2], ... and asks to answer the
    question only from them, citing source numbers, and to say so when the sources do not contain the answer."""
    lines = ["Answer the question using only the sources below.",
             "Cite the sources you use by their number, e.g. [1].",
             "If the sources do not contain the answer, say that you don't know.", ""]
    lines.extend(f"[{i}] {chunk}" for i, chunk in enumerate(retrieved_chunks, start=1))
    lines.append("")
    lines.append(f"Question: {question}")
    lines.append("Answer:")
    return "\n".join(lines)


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
