from __future__ import annotations

import textwrap

import pytest

from grader.plagiarism.units import file_units


def canonical(body: str) -> str:
    """The canonical form of `def solve(xs, n, table):` with this body (solve is the assignment's function, so it is kept)."""
    code = "def solve(xs, n, table):\n" + textwrap.indent(textwrap.dedent(body), "    ")
    return "\n".join(unit.canonical for unit in file_units(0, "solution.py", code, frozenset({"solve"})))


SAME_ALGORITHM = {
    "counted while loop is a for loop": ("i = 0\nwhile i < n:\n    print(xs[i])\n    i += 1\n", "for i in range(n):\n    print(xs[i])\n"),
    "append loop is a comprehension": ("out = []\nfor x in xs:\n    if x > 0:\n        out.append(x * 2)\nreturn out\n", "return [x * 2 for x in xs if x > 0]\n"),
    "accumulating loop is sum": ("total = 0\nfor x in xs:\n    total += x * x\nreturn total\n", "return sum(x * x for x in xs)\n"),
    "single-use temporary is inlined": ("d = xs.shape[-1]\nscale = 1.0 / d ** 0.5\nreturn xs * scale\n", "return xs * (1.0 / xs.shape[-1] ** 0.5)\n"),
    "reassignment chain is one expression": ("a = xs - xs.max()\na = np.exp(a)\nreturn a / a.sum()\n", "a = np.exp(xs - xs.max())\nreturn a / a.sum()\n"),
    "independent tuple assignment is split": ("out, i = [], 0\nreturn out, i + n\n", "out = []\ni = 0\nreturn out, i + n\n"),
    "membership check and setdefault": ("for x in xs:\n    if x not in table:\n        table[x] = len(table)\n", "for x in xs:\n    table.setdefault(x, len(table))\n"),
    "continue is an else branch": ("for x in xs:\n    if x:\n        print(x)\n        continue\n    print(n)\n", "for x in xs:\n    if x:\n        print(x)\n    else:\n        print(n)\n"),
    "number first or last in a sum": ("return 1 + n, 2 * n\n", "return n + 1, n * 2\n"),
    "mirrored comparison": ("return len(xs) > 1\n", "return 1 < len(xs)\n"),
    "unpacked list is list()": ("return [*xs]\n", "return list(xs)\n"),
    "empty constructor is a literal": ("return bytes().join(xs), dict()\n", "return b''.join(xs), {}\n"),
}


@pytest.mark.parametrize("first, second", SAME_ALGORITHM.values(), ids=SAME_ALGORITHM.keys())
def test_equivalent_spellings_share_one_canonical_form(first: str, second: str):
    assert canonical(first) == canonical(second)


def test_rewrites_keep_what_changes_the_result():
    assert canonical("a, b = b, a\nreturn a - b\n") != canonical("return b - a\n"), "a swap reads its own targets"
    assert canonical("d = xs.sum()\nreturn d / d\n") != canonical("return xs.sum() / xs.sum()\n"), "a value read twice stays named"
    assert canonical("i = 0\nwhile i < n:\n    i += 2\n    print(i)\n") != canonical("for i in range(n):\n    print(i)\n")
    assert canonical("return 'a' + n\n") != canonical("return n + 'a'\n"), "strings do not commute"
