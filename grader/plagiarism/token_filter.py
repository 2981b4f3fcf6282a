"""copydetect's token filter for Python, the same output at a fraction of the cost.

copydetect's `filter_code` lexes with pygments (a regex state machine, ~40 ms for a 250-line file) and maps each token
to a letter: variables V, function names F, class names O, strings S (a lone quote stays `"`), whitespace and comments
dropped, everything else verbatim; offsets record how many characters were dropped before each filtered position.
Here the stdlib tokenizer finds the tokens and pygments only classifies the small pieces whose class it alone knows (a
name, a number, a string literal), each distinct piece once per process. The few lexer states that depend on context
(`def`/`class` names, `import`/`from` clauses, `yield from`, decorators, docstrings at line start) are replayed here.
Anything outside that well-understood subset (code tokenize rejects, non-ASCII names, soft keywords) is lexed by pygments
itself, whole, as copydetect's filter lexes it. Either way the result is copydetect's (tests/plagiarism/test_token_filter.py
checks equality).
"""

from __future__ import annotations

import hashlib
import keyword
import re
import tokenize
from collections.abc import Callable, Iterator
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pygments
from pygments import token
from pygments.lexers.python import PythonLexer

# Results cached by content (grader.plagiarism.workcache) depend on these libraries and on this module, whichever module
# the cached function is in (fingerprints are cached, and computed from this filter).
CACHE_SALT = f"pygments {pygments.__version__}, copydetect {version('copydetect')}, {hashlib.sha256(Path(__file__).read_bytes()).hexdigest()}"

# Token kinds, named after what copydetect writes for them.
VARIABLE, FUNCTION, CLASS, PREPROCESSOR, DROPPED, STRING, VERBATIM = range(7)
_NAMES = (VARIABLE, FUNCTION, CLASS)
Piece = tuple[int, str]  # (kind, text)

_LEXER = PythonLexer()
_VARIABLE_TYPES = {token.Name, token.Name.Variable, token.Name.Attribute}
# The stdlib tokenizer's own patterns, tried in its order, over the whole text at once: tokenize itself (pure Python
# before 3.12) walks line by line, tracking indentation and brackets the filter never uses, and was most of its cost.
# Strings span lines (DOTALL: a backslash escapes a newline too); a position no pattern matches is a character Python
# rejects there.
# Whitespace, newlines, comments and line continuations before a token (possessive: nothing to try twice).
_TOKEN_SPACE = re.compile(r"(?:[ \f\t]++|\\\r?\n|\r?\n|#[^\r\n]*+)*+")
_QUOTED = "|".join(["'''" + tokenize.Single3, '"""' + tokenize.Double3, r"'[^\n'\\]*(?:\\.[^\n'\\]*)*'", r'"[^\n"\\]*(?:\\.[^\n"\\]*)*"'])
_TOKEN = re.compile(
    rf"{_TOKEN_SPACE.pattern}(?:(?P<string>(?=[bBrRuUfF]{{0,2}}[\x22\x27]){tokenize.StringPrefix}(?:{_QUOTED}))"
    rf"|(?P<number>{tokenize.Number})|(?P<op>{tokenize.Special})|(?P<name>{tokenize.Name})|(?P<end>\Z))",
    re.DOTALL,
)
_TOKEN_TYPES = {"string": tokenize.STRING, "number": tokenize.NUMBER, "op": tokenize.OP, "name": tokenize.NAME}
# Whitespace between tokens as pygments splits it: each newline, each run of other whitespace, a line continuation, a comment.
_GAP = re.compile(r"\n|[^\S\n]+|\\\n|#[^\n]*")
_KEYWORD_GAP = re.compile(r"(?:\s|\\\s)+")  # what must follow def/class/import/from for pygments to enter their states
_LEADING_SPACE = re.compile(r"\s*")
_DOC_PREFIX = re.compile(r"[rRuUbB]{0,2}")
_DOC_BODY = {'"""': re.compile(r'"""[\s\S]*?"""'), "'''": re.compile(r"'''[\s\S]*?'''")}
# pygments' rules for soft keywords (match/case statements, lazy imports): code they apply to is left to pygments itself.
_LOWERCASE_KEYWORDS = "|".join(word for word in keyword.kwlist if word[0].islower())
_SOFT_KEYWORD = re.compile(rf"[ \t]*(match|case)\b(?![ \t]*(?:[:,;=^&|@~)\]}}]|(?:{_LOWERCASE_KEYWORDS})\b))|lazy(?:\s|\\\s)+(?:from|import)(?:\s|\\\s)")


class Unsupported(Exception):
    """The code leaves the subset replayed here; pygments filters it instead."""


def _kind(token_type: token._TokenType) -> int:
    """copydetect's classification of one pygments token (the order of its if-chain)."""
    if token_type in _VARIABLE_TYPES:
        return VARIABLE
    if token_type in token.Name.Function:
        return FUNCTION
    if token_type in token.Name.Class:
        return CLASS
    if token_type == token.Comment.Preproc or token_type == token.Comment.Hashbang:
        return PREPROCESSOR
    if token_type in token.Text or token_type in token.Comment:
        return DROPPED
    if token_type in token.Literal.String:
        return STRING
    return VERBATIM


def _lexed(before: str, piece: str, after: str) -> tuple[Piece, ...]:
    """pygments' pieces for piece, lexed between before and after (context that puts the lexer where the code had it)."""
    pieces, text = [], before + piece + after
    for position, token_type, value in _LEXER.get_tokens_unprocessed(text):
        if position >= len(before) and position < len(before) + len(piece):
            pieces.append((_kind(token_type), value))
    if "".join(value for _, value in pieces) != piece:
        raise Unsupported(piece)  # a token straddles the piece's edge: the context changed the lexing
    return tuple(pieces)


@lru_cache(maxsize=65536)
def _name(name: str, after_dot: bool) -> tuple[Piece, ...]:
    # Builtins are only builtins when no dot precedes them (pygments' lookbehind); brackets keep def/import rules off.
    return _lexed("(." if after_dot else "(", name, ")")


@lru_cache(maxsize=65536)
def _number(number: str) -> tuple[Piece, ...]:
    return _lexed("(", number, ")")  # pygments splits some (1.5j -> 1.5, j) and the parts count as tokens


@lru_cache(maxsize=65536)
def _string(literal: str) -> tuple[Piece, ...]:
    """A string literal in expression position; the trailing ` x` must lex as plain text and name, or the string did not end."""
    pieces = _lexed("=", literal + " x", "")
    if pieces[-2:] != ((DROPPED, " "), (VARIABLE, "x")):
        raise Unsupported(literal)
    return pieces[:-2]


@lru_cache(maxsize=65536)
def _gap_pieces(gap: str, at_text_start: bool) -> tuple[Piece, ...]:
    """Whitespace and comments between two tokens (a few indentations and spacings recur throughout a cohort)."""
    pieces, position = [], 0
    while position < len(gap):
        match = _GAP.match(gap, position)
        if match is None:
            raise Unsupported(gap)
        value = match.group()
        hashbang = at_text_start and position == 0 and value.startswith("#!") and len(value) > 2
        pieces.append((PREPROCESSOR if hashbang else DROPPED, value))
        position = match.end()
    return tuple(pieces)


def _docstring_start(text: str, gap_start: int, string_start: int) -> int | None:
    """Where pygments' docstring rule (`^(\\s*)prefix\"\"\"...`) takes over before a string, or None when it does not apply.

    The rule fires at the first line start the lexer visits from which only whitespace leads to the string, unless that
    line is empty (there the newline rule comes first and the lexer moves on to the next line start).
    """
    whitespace_from = gap_start + len(text[gap_start:string_start].rstrip())
    for start in range(whitespace_from, string_start + 1):
        if (start == 0 or text[start - 1] == "\n") and text[start] != "\n":
            return start
    return None


def _docstring_pieces(text: str, literal: str, gap_start: int, start: int) -> tuple[list[Piece], int] | None:
    """Pieces of a string that pygments lexes as a docstring, and where its leading whitespace token starts."""
    prefix_length = len(_DOC_PREFIX.match(literal).group())
    body = literal[prefix_length:]
    quotes = body[:3]
    if quotes not in _DOC_BODY:
        return None  # not triple-quoted, or a prefix (f, t) the rule does not take
    whitespace_start = _docstring_start(text, gap_start, start)
    if whitespace_start is None:
        return None
    match = _DOC_BODY[quotes].match(body)
    if match is None or match.end() != len(body):
        raise Unsupported(literal)  # the rule would end the docstring elsewhere than Python does
    pieces = [(STRING, literal[:prefix_length])] if prefix_length else []
    return pieces + [(STRING, body)], whitespace_start


def python_tokens(text: str) -> Iterator[tuple[int, str, int, int]]:
    """(type, string, start, end) of the names, numbers, strings and operators of text, as the stdlib tokenizer splits
    them; a character it rejects comes as an ERRORTOKEN of its own, and scanning goes on after it."""
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


def _significant_tokens(text: str) -> list[tuple[int, str, int, int]]:
    """python_tokens of text, or Unsupported at a character Python does not know there."""
    found = list(python_tokens(text))
    if any(kind == tokenize.ERRORTOKEN for kind, _, _, _ in found):
        raise Unsupported(next(value for kind, value, _, _ in found if kind == tokenize.ERRORTOKEN))
    return found


class _Replay:
    """Walks tokenize's tokens and emits pygments' pieces, tracking the few lexer states that depend on context."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = _significant_tokens(text)
        self.pieces: list[Piece] = []
        self.position = 0  # text before this has been emitted
        self.state: Callable[[int], int] = self._root  # handles the token at an index, returns the next index
        # Keywords that put pygments in a state for what follows them (when whitespace follows them).
        self.keyword_states: dict[str, Callable[[int], int]] = {"def": self._function_name, "class": self._class_name, "import": self._import_clause, "from": self._from_clause}

    def gap_before(self, index: int) -> str:
        return self.text[self.position : self.tokens[index][2]]

    def emit_gap(self, end: int) -> None:
        self.pieces.extend(_gap_pieces(self.text[self.position : end], self.position == 0))
        self.position = end

    def emit_whitespace(self, end: int) -> None:
        """One whitespace token up to end, as a regex group of pygments (`(\\s+)`) emits it."""
        if end > self.position:
            self.pieces.append((DROPPED, self.text[self.position : end]))
            self.position = end

    def take_leading_space(self, index: int) -> None:
        limit = self.tokens[index][2] if index < len(self.tokens) else len(self.text)
        self.emit_whitespace(self.position + len(_LEADING_SPACE.match(self.text, self.position, limit).group()))

    def run(self) -> list[Piece]:
        index = 0
        while index < len(self.tokens):
            index = self.state(index)
        self.emit_gap(len(self.text))
        return self.pieces

    def _root(self, index: int) -> int:
        kind, value, start, end = self.tokens[index]
        following = self.tokens[index + 1] if index + 1 < len(self.tokens) else None
        if kind == tokenize.STRING:
            docstring = _docstring_pieces(self.text, value, self.position, start)
            if docstring is not None:
                pieces, whitespace_start = docstring
                self.emit_gap(whitespace_start)
                self.emit_whitespace(start)
                self.pieces.extend(pieces)
            else:
                self.emit_gap(start)
                self.pieces.extend(_string(value))
            self.position = end
            return index + 1
        self.emit_gap(start)
        self.position = end
        if kind == tokenize.NUMBER:
            self.pieces.extend(_number(value))
        elif kind == tokenize.OP:
            if value == "@" and following is not None and following[0] == tokenize.NAME and following[2] == end and following[1].isascii():
                self.pieces.append((VERBATIM, "@" + following[1]))  # pygments' decorator token, matmul or not
                self.position = following[3]
                return index + 2
            self.pieces.append((VERBATIM, value))
        else:
            return self._root_name(index, value, end, following)
        return index + 1

    def _root_name(self, index: int, name: str, end: int, following: tuple[int, str, int, int] | None) -> int:
        if not name.isascii():
            raise Unsupported(name)  # pygments' \b and identifier classes differ from Python's beyond ASCII
        if name in ("match", "case", "lazy") and _SOFT_KEYWORD.match(self.text, self.text.rfind("\n", 0, end) + 1):
            raise Unsupported(name)
        gap_end = following[2] if following is not None else len(self.text)
        gap = self.text[end:gap_end]
        if name == "yield" and gap == " " and following is not None and following[1] == "from":
            self.pieces.append((VERBATIM, "yield from"))  # one keyword token in pygments
            self.position = following[3]
            return index + 2
        if name in self.keyword_states and gap:
            if _KEYWORD_GAP.fullmatch(gap) is None:
                raise Unsupported(gap)
            self.pieces.append((VERBATIM, name))
            self.emit_whitespace(gap_end)
            self.state = self.keyword_states[name]
            return index + 1
        self.pieces.extend(_name(name, self.text[end - len(name) - 1 : end - len(name)] == "."))
        return index + 1

    def _function_name(self, index: int) -> int:
        return self._named(index, FUNCTION)

    def _class_name(self, index: int) -> int:
        return self._named(index, CLASS)

    def _named(self, index: int, kind: int) -> int:
        token_kind, value, _, end = self.tokens[index]
        if token_kind != tokenize.NAME or not value.isascii():
            raise Unsupported(value)
        self.pieces.append((kind, value))
        self.position, self.state = end, self._root
        return index + 1

    def _import_clause(self, index: int) -> int:
        """pygments' `import` state: dotted names and aliases are verbatim namespaces; anything else ends it."""
        kind, value, start, end = self.tokens[index]
        gap = self.gap_before(index)
        pure_space = gap == "" or gap.isspace()
        if not gap and (value == "." or (kind == tokenize.NAME and value.isascii())):
            self.pieces.append((VERBATIM, value))
            self.position = end
            return index + 1
        if gap and pure_space and value == "as" and self.text[end : end + 1].isspace():
            self.emit_whitespace(start)
        elif pure_space and value == ",":
            self.emit_whitespace(start)
        else:
            self.state = self._root
            return index
        self.pieces.append((VERBATIM, value))
        self.position = end
        self.take_leading_space(index + 1)
        if index + 1 < len(self.tokens) and self.position != self.tokens[index + 1][2]:
            self.state = self._root  # a comment or continuation follows: the state's rules no longer match
        return index + 1

    def _from_clause(self, index: int) -> int:
        """pygments' `from` state: dotted module names are verbatim; ` import` or `None` ends it."""
        kind, value, start, end = self.tokens[index]
        gap = self.gap_before(index)
        if gap and gap.isspace() and value == "import":
            self.emit_whitespace(start)
            self.pieces.append((VERBATIM, value))
            self.position, self.state = end, self._root
            return index + 1
        if gap or not (set(value) == {"."} or (kind == tokenize.NAME and value.isascii())):
            self.state = self._root
            return index
        self.pieces.append((VERBATIM, value))
        self.position = end
        if value == "None":
            self.state = self._root
        return index + 1


def _pygments_input(code: str) -> str:
    """The text pygments actually lexes (its default options): BOM dropped, newlines normalised and stripped, one at the end."""
    text = code[1:] if code.startswith("\ufeff") else code
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    return text if text.endswith("\n") else text + "\n"


def _letter(kind: int, value: str) -> str:
    """copydetect's one letter for a piece that is neither verbatim nor dropped: a lone quote stays a quote."""
    if kind == STRING:
        return '"' if value in ("'", '"') else "S"
    return "VFOP"[kind]


def _filtered(pieces: list[Piece]) -> tuple[str, np.ndarray]:
    """copydetect's letters and offsets for the pieces (its quirks kept: a class name's offset entry is its own length)."""
    out: list[str] = []
    length = offset = 0
    offsets = [[0, 0]]
    for kind, value in pieces:
        if kind == VERBATIM:
            out.append(value)
            length += len(value)
        elif kind == DROPPED:
            offsets.append([length - 1, offset])
            offset += len(value)
        else:
            letter = _letter(kind, value)
            out.append(letter)
            length += 1
            if letter != '"':  # a lone quote has no offset entry (and is one character)
                offsets.append([length - 1, len(value) - 1 if kind == CLASS else offset])
                offset += len(value) - 1
    return "".join(out), np.array(offsets)


def _pygments_pieces(code: str) -> tuple[Piece, ...]:
    """pygments' own pieces of the whole code, classified as copydetect's filter does (~40 ms for a 250-line file)."""
    return tuple((_kind(token_type), value) for token_type, value in _LEXER.get_tokens(code))


def python_pieces(code: str) -> tuple[Piece, ...] | None:
    """pygments' pieces of code as copydetect's filter sees them, or None where code leaves the replayed subset."""
    try:
        return tuple(_Replay(_pygments_input(code)).run())
    except Unsupported:
        return None


@lru_cache(maxsize=2)  # a file's two filters (copydetect's and the literal one) are taken one after the other
def _file_pieces(code: str) -> tuple[Piece, ...]:
    """The pieces of a file: replayed, or pygments' own where the code leaves the replayed subset."""
    pieces = python_pieces(code)
    return _pygments_pieces(code) if pieces is None else pieces


def filter_python(code: str) -> tuple[str, np.ndarray]:
    """copydetect's `filter_code(code, "x.py")`: the filtered text and its offsets."""
    return _filtered(_file_pieces(code))


def literal_filter(code: str) -> tuple[str, np.ndarray]:
    """filter_python's text with every name spelled out, each closed by a NUL (`ab c` is not `a bc`), and no offsets.

    copydetect's V, F and O make renamed copies match; they also make two solutions of one textbook recipe match line
    for line. Copied code that was restructured keeps its author's names between the edits, where independent
    solutions differ: runs of this text tell the two apart.
    """
    text = "".join(f"{value}\0" if kind in _NAMES else value if kind == VERBATIM else "" if kind == DROPPED else _letter(kind, value) for kind, value in _file_pieces(code))
    return text, np.zeros((0, 2), np.int64)


@lru_cache(maxsize=4096)
def _unit_pieces(code: str) -> tuple[Piece, ...] | None:
    return python_pieces(code)


def filter_joined(parts: tuple[str, ...]) -> tuple[str, np.ndarray]:
    """filter_python("\n".join(parts)), each distinct part lexed once per process: canonical units recur across a cohort.

    Each part, alone, ends in the newline the lexer adds, where the joined text has the newline between parts; parts
    that start a line at their first token (no leading or trailing blank, no carriage return) leave the lexer in the
    same state either way, so the pieces of the whole are those of the parts in a row. Anything else is filtered whole.
    """
    plain = all(part and part == part.strip() and "\r" not in part for part in parts)
    pieces = [_unit_pieces(part) for part in parts] if plain else []
    if not parts or not plain or any(found is None for found in pieces):
        return filter_python("\n".join(parts))
    return _filtered([piece for found in pieces for piece in found])
