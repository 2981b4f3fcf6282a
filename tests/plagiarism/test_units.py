from __future__ import annotations

import textwrap

import pytest

from grader.plagiarism.units import file_units


def canonical(body: str) -> str:
    """The canonical form of `def solve(xs, n, table):` with this body (solve is the assignment's function, so it is kept)."""
    code = "def solve(xs, n, table):\n" + textwrap.indent(textwrap.dedent(body), "    ")
    return "\n".join(unit.canonical for unit in file_units(0, "solution.py", code, frozenset({"solve"})))


SAME_ALGORITHM = {
    "membership check and setdefault": (
        "for x in xs:\n    if x not in table:\n        table[x] = len(table)\n",
        "for x in xs:\n    table.setdefault(x, len(table))\n",
    ),
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
    assert canonical("if n not in table:\n    xs[n] = 0\n") != canonical("table.setdefault(n, 0)\n"), (
        "another mapping is no setdefault"
    )


def test_units_keep_the_students_names_and_lines_while_the_canonical_form_hides_them():
    code = "import numpy as np\n\n\ndef _norm(v):\n    return np.sqrt(v)\n\n\ndef solve(xs, n, table):\n    total = 1\n    total += _norm(n)\n    return total\n\n\nlimit = 3\nprint(solve([], limit, {}))\n"
    units = file_units(0, "solution.py", code, frozenset({"solve"}))
    assert [(unit.label, unit.first_line, unit.last_line) for unit in units] == [
        ("def _norm", 4, 5),
        ("def solve", 8, 11),
        ("top-level code", 14, 15),
    ]
    assert units[0].canonical == "def helper(v1):\n    return v1 ** 0.5"
    assert units[1].canonical == "def solve(v1, v2, v3):\n    v4 = 1\n    v4 = v4 + helper(v2)\n    return v4"
