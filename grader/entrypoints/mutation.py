"""`grader mutation-test`: mutation analysis of one assignment's hidden tests."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from grader.settings import Settings

errors = Console(stderr=True)


def mutation_test(
    assignment: str = typer.Argument(..., help="assignment id: p1 ... p4"),
    sample: Optional[int] = typer.Option(
        None, "--sample", min=1, help="analyse this many mutants, drawn with a fixed seed (default: all of them)"
    ),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="sandboxes in parallel"),
    timeout: Optional[int] = typer.Option(
        None, "--timeout", min=1, help="seconds per mutant (default: 3x the reference's grading, at least 30 s)"
    ),
    retry_timeouts: bool = typer.Option(
        False,
        "--retry-timeouts",
        help="grade the timed-out mutants again (a busy machine makes slow steps pass their budget)",
    ),
    state: Optional[Path] = typer.Option(
        None, help="state and report folder (default: .mutation/<id>); a rerun there skips the mutants already graded"
    ),
) -> None:
    """Grade first-order mutants of the reference solution; report killed / survived / timed out (JSON + HTML)."""
    # Imported here: every `grader` call loads this module (grader/entrypoints/cli.py)
    from grader import course_files
    from grader.entrypoints.batch import counts_text, progress_bar
    from grader.mutation.generate import MutationEngineMissing
    from grader.mutation.report import write_report
    from grader.mutation.run import MutationError, run_mutation
    from grader.mutation.triage import TriageError

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    settings = Settings()
    state_dir = (state or Path(".mutation") / assignment).resolve()
    started = time.monotonic()
    try:
        course_files.load_assignment(settings, assignment)
        with progress_bar(errors) as bar:
            task = bar.add_task("grading", total=None, counts="")
            run = run_mutation(
                settings,
                assignment,
                state_dir,
                sample,
                workers,
                timeout,
                lambda p: bar.update(task, total=p.total, completed=p.done, counts=counts_text(p)),
                retry_timeouts,
            )
    except (course_files.CourseFileError, MutationEngineMissing, MutationError, TriageError) as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(2)
    json_path, html_path = write_report(run, settings.references_dir / assignment, state_dir)
    errors.print(f"{run.sampled} of {run.generated} mutants analysed in {time.monotonic() - started:.0f} s")
    typer.echo(f"{json_path}\n{html_path}")
