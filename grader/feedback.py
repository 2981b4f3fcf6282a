"""Human-readable reports of a grading result (rich), for the terminal.

Everything here but the grader's own labels may come from a student (messages, feedback quoting their errors, notebook
cells, even file names), so it is printed as rich `Text`, never parsed as console markup, and made printable first.
"""

from __future__ import annotations

import re

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from grader.domain.result import GradeResult
from grader.judge import CheckOutcome

STATUS_STYLE = {
    "graded": "green",
    "rejected": "red",
    "timeout": "yellow",
    "oom": "yellow",
    "error": "red",
    "infra_error": "magenta",
}
# Control characters (escape sequences, carriage returns) could redraw the reader's terminal to imitate the grader;
# lone surrogates cannot be encoded. Newlines and tabs stay.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def plain(text: str, style: str = "") -> Text:
    """Text shown exactly as written: no markup, no emoji codes, nothing the terminal would act on."""
    return Text(_UNPRINTABLE.sub("\ufffd", text), style=style)


def render_report(
    result: GradeResult, console: Console, title: str | None = None, explain: dict[str, CheckOutcome] | None = None
) -> None:
    style = STATUS_STYLE.get(result.status, "white")
    header = Text.assemble(
        plain(title or result.assignment, "bold"),
        "  status: ",
        (result.status, style),
        "  score: ",
        (f"{result.score:g} / {result.max_score:g}", "bold"),
    )
    if result.pending_manual_points:
        header.append(f"  ({result.pending_manual_points:g} points are scored by hand later)")
    console.print(Panel(Text.assemble(header, "\n", plain(result.message)), expand=False))
    if result.criteria:
        table = Table(show_lines=True)
        table.add_column("criterion")
        table.add_column("points", justify="right")
        table.add_column("feedback")
        for criterion in result.criteria:
            table.add_row(
                plain(criterion.title), f"{criterion.points:g} / {criterion.max_points:g}", plain(criterion.feedback)
            )
        console.print(table)
    for cell in result.notebook_cells:
        if cell.status != "ok":
            console.print(
                Text.assemble(
                    (f"{cell.label or f'notebook cell {cell.index}'}: {cell.status}", "yellow"),
                    " ",
                    plain(f"({cell.first_line}) " if cell.first_line else ""),
                    plain(cell.message),
                )
            )
    if explain:
        console.print(Text("Check details (instructors only)", style="bold"))
        for check_id, outcome in explain.items():
            line = Text.assemble("  ", ("pass", "green") if outcome.passed else ("FAIL", "red"), " ", plain(check_id))
            if outcome.detail and not outcome.passed:
                line.append_text(Text.assemble("\n    ", plain(outcome.detail.strip())))
            console.print(line)
    sandbox = result.sandbox
    if sandbox is not None:
        console.print(plain(f"sandbox: {sandbox.kind} ({sandbox.isolation}); {result.duration_s:.1f} s", "dim"))
        gpu = sandbox.gpu
        device = f"cuda (GPU {gpu.device_id})" if gpu.device == "cuda" else gpu.device
        console.print(plain(f"device: {device}" + (f": {gpu.reason}" if gpu.reason else ""), "dim"))
