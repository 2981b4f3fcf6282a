"""Project 3: retrieval for retrieval-augmented generation (RAG).

No external models: use only the standard library and numpy. A chunk is a string of words;
`build_index` may return any object (dict, tuple, class, arrays) that your `top_k` understands.
"""
import re
from binascii import crc32

import numpy as np

BUCKETS = 4096  # size of the hashed feature space
GRAM_LEN = 3
SKIP_WORDS = frozenset({"a", "an", "the", "and", "or", "but", "of", "to", "in", "on", "at", "for", "with", "by",
                        "is", "are", "was", "be", "it", "this", "that", "do", "does", "which", "what", "during"})
TEMPLATE = """Use the numbered sources below to answer the question. Rely on nothing else.
Mention the source number for each fact, like [1]. If no source answers the question, say you cannot tell.

{context}

Question: {query}
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
    tokens = text.split()
    hop = size - overlap
    pieces = []
    for begin in range(0, len(tokens), hop):
        # skip this offset when the window that precedes it already covered the last word
        if begin != 0 and begin - hop + size >= len(tokens):
            continue
        pieces.append(" ".join(tokens[begin:begin + size]))
    return pieces


def tokenize(text, drop_stopwords=False):
    """Lowercase word tokens (maximal runs of letters and digits); optionally drop common English stopwords."""
    spaced = "".join(map(lambda symbol: symbol if symbol.isalnum() else " ", text.lower()))
    return [token for token in spaced.split() if not (drop_stopwords and token in SKIP_WORDS)]


def letter_grams(token):
    # "<cat>" gives "<ca", "cat", "at>": a typo or a plural ending only changes a few of the pieces
    framed = f"<{token}>"
    return [framed[start:start + GRAM_LEN] for start in range(max(1, len(framed) - GRAM_LEN + 1))]


def featurize(text):
    """Counts of hashed character n-grams, damped to 1 + log(count) and scaled to unit length."""
    features = np.zeros(BUCKETS)
    for token in tokenize(text, drop_stopwords=True):
        for gram in letter_grams(token):
            # a checksum instead of the built-in hash(), which is salted per process
            features[crc32(gram.encode("utf-8")) % BUCKETS] += 1.0
    present = np.nonzero(features > 0)
    features[present] = 1.0 + np.log(features[present])
    magnitude = np.sqrt(features.dot(features))
    return features / magnitude if magnitude > 0 else features


def build_index(chunks):
    """Build a vector index of the chunks (TF-IDF or similar, your choice) that top_k can search."""
    matrix = np.zeros((len(chunks), BUCKETS))
    for row, chunk in enumerate(chunks):
        matrix[row] = featurize(chunk)
    return matrix


def top_k(index, query, k=3):
    """The k best chunks for the query as (chunk index, score) pairs, best score first (all if fewer than k)."""
    closeness = np.dot(index, featurize(query))
    order = np.argsort(-closeness, kind="stable")  # stable, so ties stay in chunk order
    return [(int(row), float(closeness[row])) for row in order[:k]]


def grounded_prompt(question, retrieved_chunks):
    """A prompt that lists the retrieved chunks as numbered sources [1], [2], ... and asks to answer the
    question only from them, citing source numbers, and to say so when the sources do not contain the answer."""
    listing = "\n".join("[{}] {}".format(rank, passage.strip()) for rank, passage in enumerate(retrieved_chunks, 1))
    return TEMPLATE.format(context=listing, query=question.strip())


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
