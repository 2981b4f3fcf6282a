"""Project 3: retrieval for retrieval-augmented generation (RAG).

No external models: use only the standard library and numpy. A chunk is a string of words;
`build_index` may return any object (dict, tuple, class, arrays) that your `top_k` understands.
"""
import math
import re
from collections import Counter

import numpy as np

FILLER_WORDS = {"a", "an", "and", "are", "as", "at", "be", "by", "do", "does", "for", "from", "how", "in", "is",
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
    pieces = text.split()
    total = len(pieces)
    stride = size - overlap
    windows = []
    for begin in range(0, total, stride):
        windows += [" ".join(pieces[begin:begin + size])]
        if total <= begin + size:
            break
    return windows


def tokenize(text, drop_stopwords=False):
    """Lowercase word tokens (maximal runs of letters and digits); optionally drop common English stopwords."""
    terms = [match.group() for match in re.finditer(r"[0-9a-z]+", text.lower())]
    if not drop_stopwords:
        return terms
    return list(filter(lambda term: term not in FILLER_WORDS, terms))


def weighted_terms(terms, weights):
    # term frequency scaled by the idf weight, divided by the Euclidean length; out-of-vocabulary terms are skipped
    freq = Counter(filter(weights.__contains__, terms))
    scaled = dict((term, times * weights[term]) for term, times in freq.items())
    length = math.sqrt(sum(value * value for value in scaled.values()))
    if length > 0:
        for term in scaled:
            scaled[term] = scaled[term] / length
    return scaled


def build_index(chunks):
    """Build a vector index of the chunks (TF-IDF or similar, your choice) that top_k can search."""
    bags = list(map(lambda chunk: tokenize(chunk, drop_stopwords=True), chunks))
    total = len(bags)
    doc_freq = Counter()
    for bag in bags:
        doc_freq.update(frozenset(bag))
    # scikit-learn style smoothing of the inverse document frequency: ln((n + 1) / (df + 1)) + 1
    weights = {}
    for term, seen in doc_freq.items():
        weights[term] = math.log((1 + total) / (1 + seen)) + 1
    rows = [weighted_terms(bag, weights) for bag in bags]
    return {"weights": weights, "rows": rows}


def sparse_dot(left, right):
    # the vectors are already normalised, so their dot product equals the cosine similarity
    if len(right) < len(left):
        left, right = right, left
    return sum(value * right.get(term, 0.0) for term, value in left.items())


def top_k(index, query, k=3):
    """The k best chunks for the query as (chunk index, score) pairs, best score first (all if fewer than k)."""
    probe = weighted_terms(tokenize(query, drop_stopwords=True), index["weights"])
    ranked = [(position, sparse_dot(probe, row)) for position, row in enumerate(index["rows"])]
    return sorted(ranked, key=lambda item: (-item[1], item[0]))[:k]


def grounded_prompt(question, retrieved_chunks):
    """A prompt that lists the retrieved chunks as numbered sources [1], [2], ... and asks to answer the
    question only from them, citing source numbers, and to say so when the sources do not contain the answer."""
    header = ["Answer the question using only the sources below.",
              "Cite the sources you use by their number, e.g. [1].",
              "If the sources do not contain the answer, say that you don't know.", ""]
    body = ["[{}] {}".format(number, chunk) for number, chunk in enumerate(retrieved_chunks, 1)]
    footer = ["", "Question: {}".format(question), "Answer:"]
    return "\n".join(header + body + footer)


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
