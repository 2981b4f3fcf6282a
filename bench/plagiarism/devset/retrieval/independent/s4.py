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
    # a start is kept unless the chunk before it already reached the end
    starts = [s for s in range(0, len(words), step) if s == 0 or s - step + size < len(words)]
    return [" ".join(words[s:s + size]) for s in starts]


def tokenize(text, drop_stopwords=False):
    """Lowercase word tokens (maximal runs of letters and digits); optionally drop common English stopwords."""
    cleaned = "".join(ch if ch.isalnum() else " " for ch in text.lower())
    return [word for word in cleaned.split() if not drop_stopwords or word not in STOPWORDS]


def char_ngrams(word):
    # "<plant>" -> "<pl", "pla", "lan", "ant", "nt>": robust to plurals and small spelling changes
    padded = "<" + word + ">"
    return [padded[i:i + NGRAM] for i in range(max(1, len(padded) - NGRAM + 1))]


def embed(text):
    """Hashed character n-gram counts with sublinear tf (1 + log tf), L2-normalised."""
    vector = np.zeros(DIM)
    for word in tokenize(text, drop_stopwords=True):
        for gram in char_ngrams(word):
            vector[zlib.crc32(gram.encode("utf-8")) % DIM] += 1.0  # crc32, not hash(): stable across runs
    nonzero = vector > 0
    vector[nonzero] = 1.0 + np.log(vector[nonzero])
    length = np.linalg.norm(vector)
    return vector / length if length > 0 else vector


def build_index(chunks):
    """Build a vector index of the chunks (TF-IDF or similar, your choice) that top_k can search."""
    return np.array([embed(chunk) for chunk in chunks]).reshape(len(chunks), DIM)


def top_k(index, query, k=3):
    """The k best chunks for the query as (chunk index, score) pairs, best score first (all if fewer than k)."""
    similarity = index @ embed(query)
    ranking = np.lexsort((np.arange(len(similarity)), -similarity))  # by score, then by position
    return [(int(i), float(similarity[i])) for i in ranking[:k]]


def grounded_prompt(question, retrieved_chunks):
    """A prompt that lists the retrieved chunks as numbered sources [1], [2], ... and asks to answer the
    question only from them, citing source numbers, and to say so when the sources do not contain the answer."""
    numbered = [f"[{i + 1}] {chunk.strip()}" for i, chunk in enumerate(retrieved_chunks)]
    return PROMPT.format(sources="\n".join(numbered), question=question.strip())


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
