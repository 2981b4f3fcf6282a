"""Project 3: retrieval for retrieval-augmented generation (RAG).

No external models: use only the standard library and numpy. A chunk is a string of words;
`build_index` may return any object (dict, tuple, class, arrays) that your `top_k` understands.
"""
import math
import re
from collections import Counter, defaultdict

import numpy as np

TOKEN_PATTERN = re.compile(r"[^\W_]+")
NOISE_WORDS = frozenset(["the", "a", "an", "of", "to", "in", "and", "or", "is", "are", "was", "were", "been", "be",
                         "it", "its", "this", "that", "on", "for", "with", "as", "by", "at", "from", "which", "what",
                         "who", "how", "do", "does", "did", "not"])


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
    if not 0 <= overlap < size:
        raise ValueError("overlap must satisfy 0 <= overlap < size")
    tokens = text.split()
    count = len(tokens)
    pieces = []
    cursor = 0
    while cursor < count:
        pieces += [" ".join(tokens[cursor:cursor + size])]
        if cursor + size >= count:
            break
        cursor = cursor + (size - overlap)
    return pieces


def tokenize(text, drop_stopwords=False):
    """Lowercase word tokens (maximal runs of letters and digits); optionally drop common English stopwords."""
    found = TOKEN_PATTERN.findall(text.lower())
    if drop_stopwords:
        return [token for token in found if token not in NOISE_WORDS]
    return list(found)


def _normalised(vector):
    magnitude = math.sqrt(sum(entry * entry for entry in vector.values())) or 1.0
    return dict((key, entry / magnitude) for key, entry in vector.items())


def _tfidf(tokens, inverse_df):
    """Count each token, multiply by its idf (tokens without one are dropped) and rescale to unit length."""
    tally = Counter(tokens)
    return _normalised({token: freq * inverse_df[token] for token, freq in tally.items() if token in inverse_df})


def build_index(chunks):
    """Build a vector index of the chunks (TF-IDF or similar, your choice) that top_k can search."""
    token_lists = [tokenize(chunk, drop_stopwords=True) for chunk in chunks]
    doc_freq = defaultdict(int)
    for tokens in token_lists:
        for token in set(tokens):
            doc_freq[token] = doc_freq[token] + 1
    total_docs = len(token_lists)
    # add-one smoothing keeps the ratio defined and every idf strictly positive
    inverse_df = {token: 1.0 + math.log((1.0 + total_docs) / (1.0 + seen)) for token, seen in doc_freq.items()}
    return inverse_df, [_tfidf(tokens, inverse_df) for tokens in token_lists]


def top_k(index, query, k=3):
    """The k best chunks for the query as (chunk index, score) pairs, best score first (all if fewer than k)."""
    inverse_df, rows = index
    probe = _tfidf(tokenize(query, drop_stopwords=True), inverse_df)
    similarities = [sum(weight * row.get(token, 0.0) for token, weight in probe.items()) for row in rows]
    # sorted() is stable, so equal scores stay in chunk order even with reverse=True
    ordered = sorted(enumerate(similarities), key=lambda entry: entry[1], reverse=True)
    return ordered[:k]


def grounded_prompt(question, retrieved_chunks):
    """A prompt that lists the retrieved chunks as numbered sources [1], [2], ... and asks to answer the
    question only from them, citing source numbers, and to say so when the sources do not contain the answer."""
    blocks = []
    for number, passage in enumerate(retrieved_chunks, start=1):
        blocks.append("Source [%s]:\n%s" % (number, passage))
    rules = ("You are a careful assistant. Use ONLY the numbered sources to answer.\n"
             "Cite every claim with its source number in brackets like [2].\n"
             "If the answer is not in the sources, reply \"I don't know\".\n\n")
    return rules + "\n\n".join(blocks) + "\n\nQuestion: {}\nAnswer:".format(question)


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
