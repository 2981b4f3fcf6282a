"""Split a document into overlapping chunks that remember where they came from.

Every chunk is an exact slice of its document (text[start:end] == chunk.text) and consecutive chunks overlap, so
no text is lost between them. Chunks end at a paragraph, line or word break when one is near the size limit, so
a chunk rarely cuts a sentence in half.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_CHUNK_CHARS = 2000  # the interface's upper bound; the reference stays well below it
CHUNK_CHARS = 500
OVERLAP_CHARS = 80
BREAKS = ("\n\n", "\n", " ")


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    source: str
    start: int
    end: int
    text: str


def chunk_document(source: str, text: str, chunk_chars: int = CHUNK_CHARS,
                   overlap_chars: int = OVERLAP_CHARS) -> list[Chunk]:
    chunks: list[Chunk] = []
    start = skip_whitespace(text, 0)
    while start < len(text):
        end = break_before(text, start, min(start + chunk_chars, len(text)))
        chunks.append(Chunk(f"{source}#{len(chunks)}", source, start, end, text[start:end]))
        if end == len(text):
            break
        start = next_start(text, start, end, overlap_chars)
    return chunks


def skip_whitespace(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def break_before(text: str, start: int, limit: int) -> int:
    """The end of a chunk: the last paragraph, line or word break in the second half of the window."""
    if limit == len(text):
        return limit
    earliest = start + (limit - start) // 2
    for separator in BREAKS:
        position = text.rfind(separator, earliest, limit)
        if position > start:
            return position
    return limit


def next_start(text: str, start: int, end: int, overlap_chars: int) -> int:
    """Where the next chunk begins: about overlap_chars before end, at the start of a word."""
    position = max(end - overlap_chars, start + 1)
    while position < end and not text[position - 1].isspace():
        position += 1
    return skip_whitespace(text, position) if position < end else end
