"""`grader batch`: grade a cohort's submissions into the gradebook and write results.csv and summary.html."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from grader.settings import Settings

if TYPE_CHECKING:
    from grader.batch.service import BatchProgress

errors = Console(stderr=True)
EXPORT_CAP_SUBMISSIONS = 64  # an LMS export may expand to this many submissions at the per-submission cap


def progress_bar(console: Console) -> Progress:
    return Progress(TextColumn("[bold]grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.fields[counts]}"), console=console)


def counts_text(progress: BatchProgress) -> str:
    text = f"graded {progress.graded} · errored {progress.errored} · timed out {progress.timed_out}"
    if progress.live_workers is not None:
        text += f" · workers alive {progress.live_workers}"
        if progress.waiting_for_dead_holder:
            text += f" · {progress.waiting_for_dead_holder} waiting for a dead worker"
    return text


def batch(
    source: Path = typer.Argument(..., exists=True, help="a folder with one submission per student (file or folder "
                                                         "named by student id), or an LMS export zip"),
    assignment: str = typer.Option(..., "--assignment", "-a", help="assignment id: p1 ... p5"),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", min=1,
                                          help="sandboxes in parallel (default: GRADER_WORKERS, else the cores); "
                                               "with GRADER_QUEUE=celery the workers' own concurrency applies"),
    out: Path = typer.Option(Path("batch-results"), "--out", "-o", help="folder for results.csv and summary.html"),
    regrade: bool = typer.Option(False, "--regrade", help="grade again what is already graded at this version"),
) -> None:
    """Grade every student's submission once; rerun to resume after an interruption."""
    # Imported here: every `grader` call loads this module (grader/entrypoints/cli.py)
    from grader import course_files
    from grader.batch.discover import BatchSourceError, discover
    from grader.batch.report import collect_results, write_reports
    from grader.batch.service import NoLiveWorker, run_batch
    from grader.db.base import make_engine, make_session_factory
    from grader.db.migrations import upgrade_to_head

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    settings = Settings()
    if workers is not None:
        settings = settings.model_copy(update={"workers": workers})
    try:
        rubric = course_files.load_rubric(settings, assignment)
        title = f"{assignment}: {course_files.load_assignment(settings, assignment).title}"
    except course_files.CourseFileError as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(2)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_to_head(settings.effective_database_url)
    engine = make_engine(settings.effective_database_url)
    session_factory = make_session_factory(engine)
    try:
        with tempfile.TemporaryDirectory(prefix="grader-batch-") as workdir:
            try:
                entries = discover(source, Path(workdir), settings.max_expanded_bytes * EXPORT_CAP_SUBMISSIONS)
            except BatchSourceError as error:
                errors.print(f"[red]{error}[/red]")
                raise typer.Exit(2)
            errors.print(f"{len(entries)} students in {source}")
            with progress_bar(errors) as bar:
                task = bar.add_task("grading", total=None, counts="")

                def show(progress: BatchProgress) -> None:
                    bar.update(task, total=progress.total, completed=progress.done, counts=counts_text(progress))

                try:
                    planned = run_batch(settings, session_factory, assignment, entries, source, regrade, show)
                except NoLiveWorker as stalled:
                    bar.stop()
                    errors.print(f"[red]{stalled}[/red]", soft_wrap=True)
                    raise typer.Exit(3)
        results = collect_results(session_factory, planned)
        csv_path, html_path = write_reports(out, title, rubric, results)
    finally:
        engine.dispose()
    unchanged = sum(1 for p in planned if p.job_id is None and p.submission_id is not None)
    errors.print(f"{len(planned)} students: {unchanged} already graded at this version, "
                 f"{sum(1 for p in planned if p.submission_id is None)} rejected at intake")
    typer.echo(f"{csv_path}\n{html_path}")
