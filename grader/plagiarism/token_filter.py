"""Python source as the token channels compare it: what a renaming cannot change, one character per choice.

Names the student chose become one letter (V a variable, attribute or argument, F a function's name where it is
defined, O a class's), so a renamed copy filters to the same text; keywords, builtins, operators and numbers stay as
written; every string literal becomes S; whitespace and comments are dropped. Names in import statements stay as
written too: a module's name is not the student's choice. Each emitted token keeps the raw range it came from, so
matched stretches of filtered text map back to the source for the report.
"""

from __future__ import annotations

import builtins
import hashlib
import keyword
import re
import tokenize
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import numpy as np

# Results cached by content (grader.plagiarism.workcache) depend on this module, whichever module the cached function
# is in (fingerprints are cached, and computed from this filter).
CACHE_SALT = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()

# The stdlib tokenizer's own patterns, tried in its order, over the whole text at once: tokenize itself (pure Python
# before 3.12) walks line by line, tracking indentation the filter never uses, and was most of its cost. Strings span
# lines (DOTALL: a backslash escapes a newline too); a position no pattern matches is a character Python rejects there.
# Whitespace, newlines, comments and line continuations before a token (possessive: nothing to try twice).
_TOKEN_SPACE = re.compile(r"(?:[ \f\t]++|\\\r?\n|\r?\n|\r|#[^\r\n]*+)*+")
_QUOTED = "|".join(
    [
        "'''" + tokenize.Single3,
        '"""' + tokenize.Double3,
        r"'[^\n'\\]*(?:\\.[^\n'\\]*)*'",
        r'"[^\n"\\]*(?:\\.[^\n"\\]*)*"',
    ]
)
_TOKEN = re.compile(
    rf"{_TOKEN_SPACE.pattern}(?:(?P<string>(?=[bBrRuUfF]{{0,2}}[\x22\x27]){tokenize.StringPrefix}(?:{_QUOTED}))"
    rf"|(?P<number>{tokenize.Number})|(?P<op>{tokenize.Special})|(?P<name>{tokenize.Name})|(?P<end>\Z))",
    re.DOTALL,
)
_TOKEN_TYPES = {"string": tokenize.STRING, "number": tokenize.NUMBER, "op": tokenize.OP, "name": tokenize.NAME}
_STATEMENT_END = re.compile(r"(?<!\\)(?:\r\n|\r|\n)")  # a line break that is not a continuation

# Names a renaming leaves alone: keywords, builtins, and the conventional first parameters.
_FIXED_NAMES = frozenset(keyword.kwlist) | frozenset(dir(builtins)) | {"self", "cls"}
_DEFINES = {"def": "F", "class": "O"}
_OPENING, _CLOSING = frozenset("([{"), frozenset(")]}")
Token = tuple[int, str, int, int]  # (tokenize type, text, raw start, raw end)


def python_tokens(text: str) -> Iterator[Token]:
    """The names, numbers, strings and operators of text, as the stdlib tokenizer splits them; a character it rejects
    comes as an ERRORTOKEN of its own, and scanning goes on after it."""
    position, length = 0, len(text)
    while position < length:
        match = _TOKEN.match(text, position)
        if match is None:
            start = _TOKEN_SPACE.match(text, position).end()
            yield tokenize.ERRORTOKEN, text[start], start, start + 1
            position = start + 1
            continue
        kind = match.lastgroup
        if kind != "end":
            yield _TOKEN_TYPES[kind], match.group(kind), match.start(kind), match.end()
        position = match.end()


def classified_tokens(code: str) -> Iterator[tuple[str | None, Token]]:
    """Each token with its letter (V, F, O or S), or None where it stays as written."""
    tokens = list(python_tokens(code))
    defining: str | None = None  # the letter of the name that follows def or class
    in_import = False
    depth = 0  # bracket depth: a line break inside brackets does not end an import statement
    previous_end, previous = 0, ";"
    for token in tokens:
        kind, value, start, end = token
        statement_start = previous in (";", ":") or (
            depth == 0 and _STATEMENT_END.search(code, previous_end, start) is not None
        )
        if in_import and (statement_start or value == ";"):
            in_import = False
        previous_end, previous = end, value
        if kind == tokenize.OP:
            depth += value in _OPENING
            depth = max(0, depth - (value in _CLOSING))
        if kind == tokenize.STRING:
            yield "S", token
        elif kind != tokenize.NAME:
            yield None, token
        elif defining is not None:
            yield defining, token
        elif value == "import" or (value == "from" and statement_start):  # not `yield from`, not `raise ... from`
            in_import = True
            yield None, token
        elif in_import or (value in _FIXED_NAMES and code[start - 1 : start] != "."):
            yield None, token
        else:
            yield "V", token
        defining = _DEFINES.get(value) if kind == tokenize.NAME and not in_import else None


@lru_cache(maxsize=4096)  # canonical units and a file's two filters recur: each distinct text is tokenized once
def _classified(code: str) -> tuple[tuple[str | None, Token], ...]:
    return tuple(classified_tokens(code))


def filter_python(code: str) -> tuple[str, np.ndarray]:
    """The filtered text, and one row per token: (start in the filtered text, raw start, raw end)."""
    pieces: list[str] = []
    spans: list[tuple[int, int, int]] = []
    length = 0
    for letter, (_, value, start, end) in _classified(code):
        piece = value if letter is None else letter
        spans.append((length, start, end))
        pieces.append(piece)
        length += len(piece)
    return "".join(pieces), np.array(spans, dtype=np.int64).reshape(-1, 3)


def literal_filter(code: str) -> tuple[str, np.ndarray]:
    """filter_python's text with every name spelled out, each closed by a NUL (`ab c` is not `a bc`), and no spans.

    The letters make renamed copies match; they also make two solutions of one textbook recipe match line for line.
    Copied code that was restructured keeps its author's names between the edits, where independent solutions differ:
    runs of this text tell the two apart.
    """
    text = "".join(
        f"{value}\0" if letter in ("V", "F", "O") else "S" if letter == "S" else value
        for letter, (_, value, _, _) in _classified(code)
    )
    return text, np.zeros((0, 3), np.int64)


def filter_joined(parts: tuple[str, ...]) -> tuple[str, np.ndarray]:
    """filter_python("\n".join(parts)), each distinct part tokenized once per process: canonical units recur across a
    cohort. Each part is whole statements, so no import statement or definition runs across two parts."""
    texts, spans = [], []
    filtered_offset = raw_offset = 0
    for part in parts:
        text, part_spans = filter_python(part)
        texts.append(text)
        spans.append(part_spans + np.array([filtered_offset, raw_offset, raw_offset]))
        filtered_offset += len(text)
        raw_offset += len(part) + 1
    return "".join(texts), np.concatenate(spans) if spans else np.zeros((0, 3), np.int64)
