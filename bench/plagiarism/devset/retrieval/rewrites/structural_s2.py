"""Project 3: retrieval for retrieval-augmented generation (RAG).

No external models: use only the standard library and numpy. A chunk is a string of words;
`build_index` may return any object (dict, tuple, class, arrays) that your `top_k` understands.
"""
import math
import re
from collections import Counter, defaultdict

import numpy as np

WORD_RE = re.compile(r"[^\W_]+")
STOP = frozenset("the a an of to in and or is are was were be been it its this that on for with as by at from "
                 "which what who how do does did not".split())


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
    if overlap < 0 or overlap >= size:
        raise ValueError("need 0 <= overlap < size")
    words = text.split()
    out = []
    for pos in range(0, len(words), size - overlap):
        out.append(" ".join(words[pos:pos + size]))
        if pos + size >= len(words):
            break
    return out


def tokenize(text, drop_stopwords=False):
    """Lowercase word tokens (maximal runs of letters and digits); optionally drop common English stopwords."""
    words = WORD_RE.findall(text.lower())
    if not drop_stopwords:
        return words
    return [w for w in words if w not in STOP]


def _weigh(terms, idf):
    """tf * idf for the terms we have an idf for, scaled to length 1."""
    weights = {}
    for term, n in Counter(terms).items():
        if term in idf:
            weights[term] = n * idf[term]
    length = math.sqrt(sum(x * x for x in weights.values()))
    if length == 0:
        length = 1.0
    return {term: x / length for term, x in weights.items()}


def build_index(chunks):
    """Build a vector index of the chunks (TF-IDF or similar, your choice) that top_k can search."""
    tokenized = [tokenize(chunk, drop_stopwords=True) for chunk in chunks]
    N = len(tokenized)
    df = defaultdict(int)
    for terms in tokenized:
        for term in set(terms):
            df[term] = df[term] + 1
    # +1 smoothing: no zero division, no zero idf
    idf = {term: 1.0 + math.log((1.0 + N) / (1.0 + count)) for term, count in df.items()}
    vectors = [_weigh(terms, idf) for terms in tokenized]
    return idf, vectors


def _score(qvec, vec):
    return sum(w * vec.get(term, 0.0) for term, w in qvec.items())


def top_k(index, query, k=3):
    """The k best chunks for the query as (chunk index, score) pairs, best score first (all if fewer than k)."""
    idf, vectors = index
    qvec = _weigh(tokenize(query, drop_stopwords=True), idf)
    scores = [_score(qvec, vec) for vec in vectors]
    ranked = sorted(range(len(scores)), key=scores.__getitem__, reverse=True)  # stable: ties keep chunk order
    result = []
    for i in ranked[:k]:
        result.append((i, scores[i]))
    return result


def grounded_prompt(question, retrieved_chunks):
    """A prompt that lists the retrieved chunks as numbered sources [1], [2], ... and asks to answer the
    question only from them, citing source numbers, and to say so when the sources do not contain the answer."""
    blocks = []
    for n, text in enumerate(retrieved_chunks, 1):
        blocks.append(f"Source [{n}]:\n{text}")
    header = ("You are a careful assistant. Use ONLY the numbered sources to answer.\n"
              "Cite every claim with its source number in brackets like [2].\n"
              "If the answer is not in the sources, reply \"I don't know\".\n\n")
    return header + "\n\n".join(blocks) + f"\n\nQuestion: {question}\nAnswer:"


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
