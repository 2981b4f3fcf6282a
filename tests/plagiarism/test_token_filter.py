from __future__ import annotations

import io
import tokenize
from pathlib import Path

import numpy as np
import pytest
from copydetect.utils import filter_code

from grader.plagiarism import token_filter
from grader.plagiarism.token_filter import filter_joined, filter_python, literal_filter
from grader.plagiarism.units import file_units

from tests.plagiarism.conftest import ALICE, BOB, CAROL, MALLORY, STARTER

DEVSET = Path(__file__).resolve().parents[2] / "bench" / "plagiarism" / "devset"

# Constructs whose pygments tokens depend on context; each must come out as copydetect has it without the fallback.
CONTEXT_SNIPPETS = {
    "docstrings": '#!/usr/bin/env python3\n"""Module."""\n\n\ndef f(x):\n    """Doc."""\n    \n      \n    r"""Raw doc at line start."""\n    y = """not a doc"""\n    z = f"""{x}\n    """\n    return (\n        """inside brackets"""\n    )\n',
    "fstrings": 'name = f"{self.a!r:>{width}} {d[\'k\']:.2f} {{literal}} {x=}"\nrf"\\d{n}" + Rb"\\x00" + u"\\N{BULLET}" + "a\'b" + \'a"b\' + ""\n',
    "formatting": 'print("%d items, %-5s" % (n, s), "{} {:>3} {0[1]}".format(a, b, c), file=sys.stderr)\ns = "line \\\ncontinued"\n',
    "imports": "import numpy as np\nimport os, sys\nimport a.b as c, d  # why\nfrom a.b import c as d, e\nfrom . import x\nfrom .. import y\nfrom.z import w\nfrom x import (a,\n    b)\nfrom m \\\n    import q\nimport p, \\\n    r\n",
    "raise_and_yield": "def g():\n    yield from gen()\n    yield  from gen()\n    raise ValueError('x') from err\n    raise KeyError from None\n",
    "decorators_and_matmul": "@property\n@torch.no_grad()\ndef f(self):\n    return a @b + a @ b\n\nc @= d\n",
    "classes_and_magic": "class Model(nn.Module):\n    def __init__(self, cls):\n        super().__init__()\n        self.__class__.__name__\n\n    def __repr__(self):\n        return x.print + x.len + len(x) + self.len\n",
    "numbers": "a = 1j + 1.5j + 1e5j + 0x1F + 0o17 + 0b101 + 1_000 + .5 + 1. + 1e-3\n",
    "whitespace": "\ufeff\n\nx = 1\t# tab\r\ny = [1,\r\n     2]\r\n\x0cz = x \\\n    + y\n\n\n",
    "soft_keyword_names": "match = re.match(p, s)\ncase = 1\nlazy = match or case\n",
    "operators": "f = lambda a, *b, **c: (a := 1) if a not in b and a is not c else ...\nx[1:2, ::3] -> None\n",
    # Python rejects these, but every character is a token it knows: the lexers agree on them.
    "bad_dedent": "if x:\n        a = 1\n    b = 2\n",
    "unbalanced_bracket": "x = (1,\n",
    "string_continued_by_backslash": "s = 'one \\\ntwo' + \"\"\"three \\\n\"\"\" + '\\'' \n",
}
# Code outside the replayed subset: pygments filters it (the result must still be copydetect's).
FALLBACK_SNIPPETS = {
    "match_statement": "match command:\n    case [x, _]:\n        pass\n    case _:\n        pass\n",
    "unterminated_string": "x = 'abc\ny = 2\n",
    "unterminated_triple_string": "x = '\'\'abc\ny = 2\n",
    "non_ascii_name": "größe = 1\nprint(größe)\n",
    "stray_character": "x = 1 $ 2\n",
}


def assert_same_as_copydetect(code: str) -> None:
    expected_text, expected_offsets = filter_code(code, "submission.py")
    text, offsets = filter_python(code)
    assert text == expected_text
    assert np.array_equal(offsets, expected_offsets)


@pytest.fixture
def no_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(code: str) -> None:
        raise AssertionError("fell back to pygments")

    token_filter._file_pieces.cache_clear()  # a file filtered before, through the fallback, must not come from the cache
    monkeypatch.setattr(token_filter, "_pygments_pieces", refuse)


def devset_files() -> list[Path]:
    files = sorted(DEVSET.rglob("*.py"))
    assert len(files) >= 30
    return files


@pytest.mark.parametrize("path", devset_files(), ids=lambda path: str(path.relative_to(DEVSET)))
def test_devset_files_filter_exactly_as_copydetect_without_pygments(path: Path, no_fallback: None) -> None:
    assert_same_as_copydetect(path.read_text())


@pytest.mark.parametrize("code", [STARTER, ALICE, BOB, CAROL, MALLORY, "# file: a.py\n" + ALICE + "\n# file: b.py\n" + BOB + "\n"])
def test_test_cohort_filters_exactly_as_copydetect(code: str, no_fallback: None) -> None:
    assert_same_as_copydetect(code)


@pytest.mark.parametrize("name", sorted(CONTEXT_SNIPPETS))
def test_context_dependent_tokens_match_pygments(name: str, no_fallback: None) -> None:
    assert_same_as_copydetect(CONTEXT_SNIPPETS[name])


@pytest.mark.parametrize("name", sorted(FALLBACK_SNIPPETS))
def test_code_outside_the_subset_falls_back_to_the_same_result(name: str) -> None:
    with pytest.raises(token_filter.Unsupported):
        token_filter._Replay(token_filter._pygments_input(FALLBACK_SNIPPETS[name])).run()
    assert_same_as_copydetect(FALLBACK_SNIPPETS[name])


@pytest.mark.parametrize(
    "code, literal",
    [
        ("def f(total, x):\n    return total + x  # sum\n", "deff\0(total\0,x\0):returntotal\0+x\0"),
        ("class Net(Base):\n    s = 'text'\n", "classNet\0(Base\0):s\0=\"S\""),
        ("größe = 1\nprint(größe)\n", "größe\0=1print(größe\0)"),  # outside the replayed subset: pygments lexes it
    ],
    ids=["function", "class", "non_ascii_name"],
)
def test_the_literal_filter_spells_out_the_names_copydetect_letters(code: str, literal: str) -> None:
    text, offsets = literal_filter(code)
    assert text == literal
    assert len(offsets) == 0


def stdlib_tokens(text: str) -> list[tuple[int, str, int, int]]:
    """tokenize's names, numbers, strings, operators and rejected characters, with offsets into text."""
    line_starts = [0]
    for line in text.split("\n"):
        line_starts.append(line_starts[-1] + len(line) + 1)
    kept = {tokenize.NAME, tokenize.NUMBER, tokenize.STRING, tokenize.OP, tokenize.ERRORTOKEN}
    return [
        (kind, value, line_starts[start[0] - 1] + start[1], line_starts[end[0] - 1] + end[1])
        for kind, value, start, end, _ in tokenize.generate_tokens(io.StringIO(text).readline)
        if kind in kept and value.strip()  # tokenize also reports a space before some rejected characters
    ]


TOKENIZABLE = {**{str(path.relative_to(DEVSET)): path.read_text() for path in devset_files()}, **{name: CONTEXT_SNIPPETS[name] for name in CONTEXT_SNIPPETS if name not in ("bad_dedent", "unbalanced_bracket")}, "stray_character": FALLBACK_SNIPPETS["stray_character"]}


@pytest.mark.parametrize("name", sorted(TOKENIZABLE))
def test_tokens_are_split_as_the_stdlib_tokenizer_splits_them(name: str) -> None:
    text = token_filter._pygments_input(TOKENIZABLE[name])
    assert list(token_filter.python_tokens(text)) == stdlib_tokens(text)


def assert_joined_as_whole(parts: list[str]) -> None:
    text, offsets = filter_joined(tuple(parts))
    expected_text, expected_offsets = filter_python("\n".join(parts))
    assert text == expected_text
    assert np.array_equal(offsets, expected_offsets)


@pytest.mark.parametrize("path", devset_files(), ids=lambda path: str(path.relative_to(DEVSET)))
def test_canonical_units_filtered_one_by_one_join_into_the_filter_of_their_text(path: Path) -> None:
    assert_joined_as_whole([unit.canonical for unit in file_units(0, path.name, path.read_text(), frozenset())])


JOINED_EDGES = {
    "import_then_def": ["def f():\n    import numpy as np", "def g():\n    from a import b", "import os"],
    "string_statements": ["'''doc'''.join(x)", 'r"""x""".strip()', "x = 1"],
    "names_after_names": ["x.y", "print(a)", "class A:\n    pass", "yield from g()"],
    "fallback_part": ["x = 1", "match x:\n    case 1:\n        pass", "y = 2"],
    "untidy_parts": ["  x = 1", "y = 2\n", "z\r= 3", ""],
    "none": [],
}


@pytest.mark.parametrize("name", sorted(JOINED_EDGES))
def test_parts_at_the_edge_of_the_subset_still_join_into_the_filter_of_their_text(name: str) -> None:
    assert_joined_as_whole(JOINED_EDGES[name])
