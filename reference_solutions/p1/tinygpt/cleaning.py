"""Turn a messy text dump into one clean, unique line per document (the spec in the assignment handout)."""

import unicodedata


def clean_corpus(raw: str) -> str:
    # Normalise first: lines that differ only in Unicode form or whitespace must look equal before deduplication.
    text = unicodedata.normalize("NFKC", raw)
    text = "".join(char for char in text if unicodedata.category(char) != "Cf")
    kept: list[str] = []
    seen: set[str] = set()
    for line in text.splitlines():
        line = " ".join(line.split())
        key = line.casefold()
        if line and key not in seen:
            seen.add(key)
            kept.append(line)
    return "".join(line + "\n" for line in kept)
