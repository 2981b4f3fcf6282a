"""Project 3: retrieval for retrieval-augmented generation (RAG).

No external models: use only the standard library and numpy. A chunk is a string of words;
`build_index` may return any object (dict, tuple, class, arrays) that your `top_k` understands.
"""
import re
import zlib

import numpy as np

DIM = 4096  # number of hashed features
NGRAM = 3
STOPWORDS = frozenset(["a", "an", "the", "and", "or", "but", "of", "to", "in", "on", "at", "for", "with", "by",
                       "is", "are", "was", "be", "it", "this", "that", "do", "does", "which", "what", "during"])
PROMPT = """Use the numbered sources below to answer the question. Rely on nothing else.
Mention the source number for each fact, like [1]. If no source answers the question, say you cannot tell.

{sources}

Question: {question}
Answer:"""


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
    step = size - overlap
    chunks = []
    for s in range(0, len(words), step):
        # a start is kept unless the chunk before it already reached the end
        if s > 0 and s - step + size >= len(words):
            continue
        chunks.append(" ".join(words[s:s + size]))
    return chunks


def tokenize(text, drop_stopwords=False):
    """Lowercase word tokens (maximal runs of letters and digits); optionally drop common English stopwords."""
    kept = []
    for ch in text.lower():
        kept.append(ch if ch.isalnum() else " ")
    words = "".join(kept).split()
    if not drop_stopwords:
        return words
    return [word for word in words if word not in STOPWORDS]


def char_ngrams(word):
    # "<plant>" -> "<pl", "pla", "lan", "ant", "nt>": robust to plurals and small spelling changes
    padded = "<" + word + ">"
    count = len(padded) - NGRAM + 1
    if count < 1:
        count = 1
    grams = []
    i = 0
    while i < count:
        grams.append(padded[i:i + NGRAM])
        i += 1
    return grams


def _bucket(gram):
    return zlib.crc32(gram.encode("utf-8")) % DIM  # crc32, not hash(): stable across runs


def embed(text):
    """Hashed character n-gram counts with sublinear tf (1 + log tf), L2-normalised."""
    vector = np.zeros(DIM)
    for gram in (gram for word in tokenize(text, drop_stopwords=True) for gram in char_ngrams(word)):
        vector[_bucket(gram)] += 1.0
    nonzero = vector > 0
    vector[nonzero] = 1.0 + np.log(vector[nonzero])
    length = np.linalg.norm(vector)
    if length > 0:
        return vector / length
    return vector


def build_index(chunks):
    """Build a vector index of the chunks (TF-IDF or similar, your choice) that top_k can search."""
    matrix = np.zeros((len(chunks), DIM))
    for row, chunk in enumerate(chunks):
        matrix[row] = embed(chunk)
    return matrix


def top_k(index, query, k=3):
    """The k best chunks for the query as (chunk index, score) pairs, best score first (all if fewer than k)."""
    similarity = index @ embed(query)
    positions = np.arange(len(similarity))
    ranking = np.lexsort((positions, -similarity))  # by score, then by position
    return [(int(i), float(similarity[i])) for i in ranking[:k]]


def grounded_prompt(question, retrieved_chunks):
    """A prompt that lists the retrieved chunks as numbered sources [1], [2], ... and asks to answer the
    question only from them, citing source numbers, and to say so when the sources do not contain the answer."""
    question = question.strip()
    numbered = []
    for i, chunk in enumerate(retrieved_chunks, start=1):
        numbered.append(f"[{i}] {chunk.strip()}")
    return PROMPT.format(sources="\n".join(numbered), question=question)


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
