from __future__ import annotations

import textwrap

import pytest

from grader.plagiarism.units import file_units


def canonical(body: str) -> str:
    """The canonical form of `def solve(xs, n, table):` with this body (solve is the assignment's function, so it is kept)."""
    code = "def solve(xs, n, table):\n" + textwrap.indent(textwrap.dedent(body), "    ")
    return "\n".join(unit.canonical for unit in file_units(0, "solution.py", code, frozenset({"solve"})))


SAME_ALGORITHM = {
    "membership check and setdefault": ("for x in xs:\n    if x not in table:\n        table[x] = len(table)\n", "for x in xs:\n    table.setdefault(x, len(table))\n"),
    "number first or last in a sum": ("return 1 + n, 2 * n\n", "return n + 1, n * 2\n"),
    "mirrored comparison": ("return len(xs) > 1\n", "return 1 < len(xs)\n"),
    "unpacked list is list()": ("return [*xs]\n", "return list(xs)\n"),
    "empty constructor is a literal": ("return bytes().join(xs), dict()\n", "return b''.join(xs), {}\n"),
}


@pytest.mark.parametrize("first, second", SAME_ALGORITHM.values(), ids=SAME_ALGORITHM.keys())
def test_equivalent_spellings_share_one_canonical_form(first: str, second: str):
    assert canonical(first) == canonical(second)


def test_normal_forms_keep_what_changes_the_result():
    assert canonical("return 'a' + n\n") != canonical("return n + 'a'\n"), "strings do not commute"
    assert canonical("if n not in table:\n    xs[n] = 0\n") != canonical("table.setdefault(n, 0)\n"), "another mapping is no setdefault"
