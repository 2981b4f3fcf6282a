"""Human-readable reports of a grading result (rich), for the terminal."""

from __future__ import annotations

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from grader.domain.result import GradeResult
from grader.judge import CheckOutcome

STATUS_STYLE = {"graded": "green", "rejected": "red", "timeout": "yellow", "oom": "yellow", "error": "red",
                "infra_error": "magenta"}


def render_report(result: GradeResult, console: Console, title: str | None = None,
                  explain: dict[str, CheckOutcome] | None = None) -> None:
    style = STATUS_STYLE.get(result.status, "white")
    header = (f"[bold]{title or result.assignment}[/bold]  status: [{style}]{result.status}[/{style}]  "
              f"score: [bold]{result.score:g} / {result.max_score:g}[/bold]")
    if result.pending_manual_points:
        header += f"  ({result.pending_manual_points:g} points are scored by hand later)"
    console.print(Panel(f"{header}\n{result.message}", expand=False))
    if result.criteria:
        table = Table(show_lines=True)
        table.add_column("criterion")
        table.add_column("points", justify="right")
        table.add_column("feedback")
        for criterion in result.criteria:
            table.add_row(criterion.title, f"{criterion.points:g} / {criterion.max_points:g}", criterion.feedback)
        console.print(table)
    if result.notebook_cells:
        failing = [c for c in result.notebook_cells if c.status != "ok"]
        for cell in failing:
            console.print(f"[yellow]notebook cell {cell.index}: {cell.status}[/yellow] {cell.message}")
    if explain:
        console.print("[bold]Check details (instructors only)[/bold]")
        for check_id, outcome in explain.items():
            mark = "[green]pass[/green]" if outcome.passed else "[red]FAIL[/red]"
            console.print(f"  {mark} {check_id}" + (f"\n    {outcome.detail.strip()}" if outcome.detail and not outcome.passed else ""))
    sandbox = result.sandbox
    if sandbox is not None:
        console.print(f"[dim]sandbox: {sandbox.kind} ({sandbox.isolation}); {result.duration_s:.1f} s[/dim]")
