"""`grader batch`: grade a cohort's submissions into the gradebook and write results.csv and summary.html."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from grader.settings import Settings

if TYPE_CHECKING:
    from grader.batch.service import BatchProgress

errors = Console(stderr=True)


def progress_bar(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]grading"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[counts]}"),
        console=console,
    )


def counts_text(progress: BatchProgress) -> str:
    text = f"graded {progress.graded} · errored {progress.errored} · timed out {progress.timed_out}"
    if progress.live_workers is not None:
        text += f" · workers alive {progress.live_workers}"
        if progress.waiting_for_dead_holder:
            text += f" · {progress.waiting_for_dead_holder} waiting for a dead worker"
    return text


def batch(
    source: Path = typer.Argument(
        ...,
        exists=True,
        help="a folder with one submission per student (file or folder named by student id), or an LMS export zip",
    ),
    assignment: str = typer.Option(..., "--assignment", "-a", help="assignment id: p1 ... p5"),
    workers: Optional[int] = typer.Option(
        None,
        "--workers",
        "-w",
        min=1,
        help="sandboxes in parallel (default: GRADER_WORKERS, else the cores); "
        "with GRADER_QUEUE=celery the workers' own concurrency applies",
    ),
    out: Path = typer.Option(Path("batch-results"), "--out", "-o", help="folder for results.csv and summary.html"),
    regrade: bool = typer.Option(False, "--regrade", help="grade again what is already graded at this version"),
) -> None:
    """Grade every student's submission once; rerun to resume after an interruption."""
    # Imported here: every `grader` call loads this module (grader/entrypoints/cli.py)
    from grader import course_files
    from grader.batch.cohort import grade_cohort
    from grader.batch.discover import BatchSourceError
    from grader.batch.service import NoLiveWorker

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    settings = Settings()
    if workers is not None:
        settings = settings.model_copy(update={"workers": workers})
    bar = progress_bar(errors)
    task = bar.add_task("grading", total=None, counts="")

    def start(students: int) -> None:
        errors.print(f"{students} students in {source}")
        bar.start()

    def show(progress: BatchProgress) -> None:
        bar.update(task, total=progress.total, completed=progress.done, counts=counts_text(progress))

    try:
        run = grade_cohort(settings, source, assignment, out, regrade, start, show)
    except (course_files.CourseFileError, BatchSourceError) as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(2)
    except NoLiveWorker as stalled:
        bar.stop()
        errors.print(f"[red]{stalled}[/red]", soft_wrap=True)
        raise typer.Exit(3)
    finally:
        bar.stop()
    errors.print(
        f"{len(run.planned)} students: {run.already_graded} already graded at this version, "
        f"{run.rejected} rejected at intake"
    )
    typer.echo(f"{run.csv_path}\n{run.html_path}")
