"""What an instructor reads on a submission's page beyond the result: the code inline with syntax highlighting
(Pygments), every check's pass/fail, and which sandbox graded it with what isolation."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_for_filename
from pygments.lexers.python import PythonLexer
from pygments.util import ClassNotFound

SHOWN_UP_TO_BYTES = 256 * 1024  # bigger files (data, weights) are listed for download only
CODE_CSS_CLASS = "highlight"


@dataclass(frozen=True)
class CheckRow:
    criterion: str
    check: str
    passed: bool


@dataclass(frozen=True)
class SandboxView:
    kind: str
    isolation: str
    image: str | None
    worker: str | None

    @property
    def weak(self) -> bool:
        """The local backend: no container, the student's code ran as a plain process of the grading host."""
        return self.kind != "docker"


@dataclass(frozen=True)
class CodeFile:
    name: str
    html: Markup


def check_rows(result: dict[str, Any]) -> list[CheckRow]:
    return [
        CheckRow(criterion["id"], check["id"], bool(check["passed"]))
        for criterion in result.get("criteria", [])
        for check in criterion.get("checks", [])
    ]


def sandbox_view(result: dict[str, Any]) -> SandboxView | None:
    sandbox = result.get("sandbox")
    if not sandbox:
        return None
    worker = sandbox.get("worker")
    return SandboxView(
        sandbox["kind"],
        sandbox.get("isolation", ""),
        sandbox.get("image"),
        f"{worker['host']}:{worker['pid']}" if worker else None,
    )


def _notebook_code(text: str) -> str:
    """A notebook's code cells, numbered as the result page numbers them."""
    cells = [cell for cell in json.loads(text).get("cells", []) if cell.get("cell_type") == "code"]
    return "\n\n".join(f"# code cell {n}\n{''.join(cell.get('source', ''))}" for n, cell in enumerate(cells, start=1))


def _formatter() -> HtmlFormatter:
    return HtmlFormatter(cssclass=CODE_CSS_CLASS, linenos="table")


def highlighted_file(path: Path, name: str) -> CodeFile | None:
    """None for what is not text worth showing: too big, binary, or of no known language."""
    if path.stat().st_size > SHOWN_UP_TO_BYTES:
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None
    try:
        if name.endswith(".ipynb"):
            text, lexer = _notebook_code(text), PythonLexer()
        else:
            lexer = get_lexer_for_filename(name, text)
    except (ClassNotFound, ValueError, KeyError):
        return None
    return CodeFile(name, Markup(highlight(text, lexer, _formatter())))  # Pygments escapes the code itself


def highlighted_files(tree: Path, names: list[str]) -> list[CodeFile]:
    return [shown for name in names if (shown := highlighted_file(tree / name, name)) is not None]


@cache
def code_css() -> str:
    """Served as a stylesheet: the pages' Content-Security-Policy allows no inline styles."""
    return _formatter().get_style_defs(f".{CODE_CSS_CLASS}")
