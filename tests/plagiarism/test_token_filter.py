from __future__ import annotations

import io
import sys
import tokenize
from pathlib import Path

import numpy as np
import pytest

from grader.plagiarism.token_filter import filter_joined, filter_python, literal_filter, python_tokens
from grader.plagiarism.units import file_units
from tests.plagiarism.conftest import ALICE, BOB, CAROL, MALLORY, STARTER

DEVSET = Path(__file__).resolve().parents[2] / "bench" / "plagiarism" / "devset"
sys.path.insert(0, str(DEVSET.parent))
from build_devset import rename_identifiers  # noqa: E402

SNIPPETS = {
    "docstrings": '#!/usr/bin/env python3\n"""Module."""\n\n\ndef f(x):\n    """Doc."""\n    y = """not a doc"""\n    z = f"""{x}\n    """\n',
    "fstrings": 'name = f"{self.a!r:>{width}} {d[\'k\']:.2f} {{literal}} {x=}"\nrf"\\d{n}" + Rb"\\x00" + u"\\N{BULLET}" + "a\'b" + \'a"b\' + ""\n',
    "imports": "import numpy as np\nimport os, sys\nimport a.b as c, d  # why\nfrom a.b import c as d, e\nfrom . import x\nfrom x import (a,\n    b)\nfrom m \\\n    import q\n",
    "decorators_and_matmul": "@property\n@torch.no_grad()\ndef f(self):\n    return a @b + a @ b\n\nc @= d\n",
    "numbers": "a = 1j + 1.5j + 1e5j + 0x1F + 0o17 + 0b101 + 1_000 + .5 + 1. + 1e-3\n",
    "operators": "f = lambda a, *b, **c: (a := 1) if a not in b and a is not c else ...\nx[1:2, ::3] -> None\n",
    "stray_character": "x = 1 $ 2\n",
}


def filtered(code: str) -> str:
    return filter_python(code)[0]


def devset_files() -> list[Path]:
    files = sorted(DEVSET.rglob("*.py"))
    assert len(files) >= 30
    return files


@pytest.mark.parametrize("path", devset_files()[::7], ids=lambda path: str(path.relative_to(DEVSET)))
def test_a_renamed_copy_filters_to_the_same_text(path: Path) -> None:
    code = path.read_text()
    # The filter spells out self and cls like keywords (see the self/cls case below), so the renaming leaves them.
    renamed = rename_identifiers(code, keep={"self", "cls"}, seed=3)
    assert renamed != code
    assert filtered(renamed) == filtered(code)


def test_comments_blank_lines_and_line_breaks_change_nothing() -> None:
    code = "def f(a, b):\n    return a + b\n"
    untidy = "\n\n# helper\ndef f( a,b ):   # adds\n\n    return a \\\n        + b\r\n"
    assert filtered(untidy) == filtered(code) == "defF(V,V):returnV+V"
    assert filtered("x = 1  # one\n") == filtered("x=1\n") == "V=1"


@pytest.mark.parametrize(
    "code, text",
    [
        ("def train(model, steps):\n    return model.fit(steps)\n", "defF(V,V):returnV.V(V)"),
        ("class Net(Base):\n    '''doc'''\n    s = f'{x}'\n", "classO(V):SV=S"),
        ("print(len(items), self.len, cls)\n", "print(len(V),self.V,cls)"),
        (
            "import numpy as np\nfrom torch import (nn,\n    optim)\nnp.zeros(2)\n",
            "importnumpyasnpfromtorchimport(nn,optim)V.V(2)",
        ),
        ("import os; os.sep\n", "importos;V.V"),
        (
            "def g(xs):\n    yield from xs\n    raise KeyError(xs) from None\n",
            "defF(V):yieldfromVraiseKeyError(V)fromNone",
        ),
        ("x = 1 $ 2\n", "V=1$2"),
    ],
    ids=[
        "function",
        "class_and_strings",
        "builtins_and_attributes",
        "imports",
        "import_then_statement",
        "yield_and_raise_from",
        "rejected_character",
    ],
)
def test_letters_stand_for_the_names_a_student_chooses(code: str, text: str) -> None:
    assert filtered(code) == text


@pytest.mark.parametrize("path", devset_files(), ids=lambda path: str(path.relative_to(DEVSET)))
def test_every_token_maps_back_to_its_source_text(path: Path) -> None:
    code = path.read_text()
    text, spans = filter_python(code)
    ends = list(spans[1:, 0]) + [len(text)]
    for (start, raw_start, raw_end), end in zip(spans.tolist(), ends):
        piece, source = text[start:end], code[raw_start:raw_end]
        assert piece == source or (piece in ("V", "F", "O", "S") and source), (piece, source)


@pytest.mark.parametrize("code", [STARTER, ALICE, BOB, CAROL, MALLORY])
def test_the_test_cohort_filters_with_every_definition_kept(code: str) -> None:
    text, spans = filter_python(code)
    assert len(spans) > 10
    assert text.count("defF") == sum(1 for kind, value, _, _ in python_tokens(code) if value == "def")


@pytest.mark.parametrize(
    "code, literal",
    [
        ("def f(total, x):\n    return total + x  # sum\n", "deff\0(total\0,x\0):returntotal\0+x\0"),
        ("class Net(Base):\n    s = 'text'\n", "classNet\0(Base\0):s\0=S"),
        ("größe = 1\nprint(größe)\n", "größe\0=1print(größe\0)"),
    ],
    ids=["function", "class", "non_ascii_name"],
)
def test_the_literal_filter_spells_out_the_names_the_letters_stand_for(code: str, literal: str) -> None:
    text, spans = literal_filter(code)
    assert text == literal
    assert len(spans) == 0


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


TOKENIZABLE = {**{str(path.relative_to(DEVSET)): path.read_text() for path in devset_files()}, **SNIPPETS}


@pytest.mark.parametrize("name", sorted(TOKENIZABLE))
def test_tokens_are_split_as_the_stdlib_tokenizer_splits_them(name: str) -> None:
    text = TOKENIZABLE[name]
    assert list(python_tokens(text)) == stdlib_tokens(text)


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
    "match_statement": ["x = 1", "match x:\n    case 1:\n        pass", "y = 2"],
    "untidy_parts": ["  x = 1", "y = 2\n", "z = 3  # note", ""],
    "none": [],
}


@pytest.mark.parametrize("name", sorted(JOINED_EDGES))
def test_parts_with_imports_definitions_and_strings_join_into_the_filter_of_their_text(name: str) -> None:
    assert_joined_as_whole(JOINED_EDGES[name])
