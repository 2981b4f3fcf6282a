"""The `grader` command line.

Every call loads every command module, so those modules import what only their own commands need (the pipeline,
the database, the detector) inside the commands: `grader plagiarism` does not load the gradebook's migrations, nor
`grader grade` FAISS.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from grader.entrypoints.admin import admin
from grader.entrypoints.batch import batch
from grader.entrypoints.mutation import mutation_test
from grader.entrypoints.plagiarism import plagiarism, review_app
from grader.entrypoints.web_server import serve
from grader.entrypoints.worker import worker
from grader.settings import Settings

if TYPE_CHECKING:
    from grader.pipeline import Grader

app = typer.Typer(
    help="Autograder for the Workshop on applied language and generative models.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
sandbox_app = typer.Typer(help="The sandbox image.", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")
app.command("plagiarism")(plagiarism)
app.add_typer(review_app, name="plagiarism-review")
app.command("serve")(serve)
app.command("batch")(batch)
app.command("worker")(worker)
app.command("mutation-test")(mutation_test)
app.add_typer(admin, name="admin")
console = Console()
errors = Console(stderr=True)


def _settings() -> Settings:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return Settings()


def _grader(settings: Settings, sandbox: Optional[str]) -> Grader:
    from grader.pipeline import Grader
    from grader.sandbox.base import SandboxError
    from grader.sandbox.select import select_backend

    try:
        backend = select_backend(settings, sandbox, progress=lambda line: errors.print(f"[dim]{line}[/dim]"))
    except SandboxError as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(2)
    return Grader(settings, backend)


def _known_assignment(settings: Settings, assignment_id: str) -> None:
    from grader import course_files

    try:
        course_files.load_assignment(settings, assignment_id)
    except course_files.CourseFileError as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(2)


@app.command()
def grade(
    submission: Path = typer.Argument(..., help="a .py file, a .ipynb notebook, a .zip, or a folder"),
    assignment: str = typer.Option(..., "--assignment", "-a", help="assignment id: p1 ... p5"),
    json_out: Optional[Path] = typer.Option(None, "--json", help="write the result JSON (schema_version 1) here"),
    sandbox: Optional[str] = typer.Option(
        None, help="docker | local (default: GRADER_SANDBOX, else docker if an engine answers)"
    ),
    explain: bool = typer.Option(False, help="also print each hidden check's detail (instructors only)"),
) -> None:
    """Grade one submission and print its report. Exit 0 whenever a verdict was reached, whatever the score."""
    from grader.feedback import render_report

    settings = _settings()
    if not submission.exists():
        errors.print(f"[red]{submission} does not exist[/red]")
        raise typer.Exit(2)
    _known_assignment(settings, assignment)
    verdict = _grader(settings, sandbox).grade_path(submission, assignment)
    render_report(
        verdict.result,
        console,
        title=f"{assignment}: {submission.name}",
        explain=verdict.check_outcomes if explain else None,
    )
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(verdict.result.model_dump_json(indent=2), encoding="utf-8")
    if verdict.result.status == "infra_error":
        raise typer.Exit(3)


@app.command()
def validate() -> None:
    """Check every assignment and rubric, and explain each problem."""
    from grader.handout import validate_course

    settings = _settings()
    problems = validate_course(settings)
    if not problems:
        errors.print("[red]no assignments found[/red] under " + str(settings.assignments_dir))
        raise typer.Exit(1)
    for assignment_id, found in problems.items():
        if found:
            console.print(f"[red]✗ {assignment_id}[/red]")
            for problem in found:
                console.print(f"   - {problem}")
        else:
            console.print(f"[green]✓ {assignment_id}[/green]")
    if any(problems.values()):
        raise typer.Exit(1)


@app.command()
def handout(
    assignment: str = typer.Argument(...),
    out: Optional[Path] = typer.Option(None, help="zip to write (default: handouts/<id>.zip)"),
) -> None:
    """Build the student handout zip (README, starter, public tests, public rubric; never hidden tests)."""
    from grader.handout import build_handout

    settings = _settings()
    _known_assignment(settings, assignment)
    path = build_handout(settings, assignment, out or Path("handouts") / f"{assignment}.zip")
    console.print(f"wrote {path}")


@app.command("check-references")
def check_references_command(
    assignment: Optional[list[str]] = typer.Option(None, "--assignment", "-a", help="default: every assignment"),
    sandbox: Optional[str] = typer.Option(None, help="docker | local"),
    jobs: int = typer.Option(0, help="gradings in parallel (default: the number of cores)"),
    device: Optional[str] = typer.Option(
        None, help="cuda | cpu: every run on that device (default: as each assignment asks and the host allows)"
    ),
) -> None:
    """Grade every reference (full marks), starter (at most its floor) and mutant (must lose its criterion)."""
    from grader import course_files
    from grader.references import check_references, parallel_gradings, reference_settings
    from grader.sandbox.gpu import GpuUnavailable, require_gpu

    settings = _settings()
    if device not in (None, "cuda", "cpu"):
        errors.print(f"[red]--device {device}: use cuda or cpu[/red]")
        raise typer.Exit(2)
    workers = parallel_gradings(jobs)
    settings = reference_settings(settings, device, workers)
    ids = assignment or course_files.assignment_ids(settings)
    for assignment_id in ids:
        _known_assignment(settings, assignment_id)
    grader = _grader(settings, sandbox)
    if device == "cuda":
        try:
            require_gpu(grader.backend)
        except GpuUnavailable as error:
            errors.print(f"[red]--device cuda, but {error}[/red]")
            raise typer.Exit(2)
    started = time.monotonic()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("grading references", total=None)

        def report(result) -> None:
            mark = "[green]ok[/green]  " if result.ok else "[red]FAIL[/red]"
            progress.console.print(
                f"{mark} {result.case.assignment_id} {result.case.name:<32} "
                f"{result.status:<8} {result.score:>5g}  {result.duration_s:6.1f} s"
                + ("" if result.ok else f"\n      {result.problem}")
            )
            progress.advance(task)

        run = check_references(
            settings, grader, ids, workers, on_result=report, on_cases=lambda total: progress.update(task, total=total)
        )
    failed = [r for r in run.results if not r.ok]
    console.print(
        f"{len(run.results) - len(failed)} passed, {len(failed)} failed "
        f"({time.monotonic() - started:.0f} s, {workers} in parallel)"
    )
    if failed:
        raise typer.Exit(1)


@app.command()
def demo(
    sandbox: Optional[str] = typer.Option(None, help="docker | local (default: docker if an engine answers)"),
    json_dir: Optional[Path] = typer.Option(None, help="also write both result JSON files here"),
) -> None:
    """Grade the project-1 reference solution and a partly broken variant of it, and print both reports."""
    from grader.feedback import render_report
    from grader.references import apply_mutant, load_mutant

    settings = _settings()
    grader = _grader(settings, sandbox)
    reference = settings.references_dir / "p1"
    with tempfile.TemporaryDirectory(prefix="grader-demo-") as scratch:
        broken = apply_mutant(
            reference,
            load_mutant(reference / "mutants" / "partly_broken.yaml"),
            Path(scratch) / "partly_broken",
            "partly_broken",
        )
        for label, source in (("reference solution", reference), ("partly broken sample", broken)):
            console.rule(f"p1: {label}")
            verdict = grader.grade_path(source, "p1")
            render_report(verdict.result, console, title=f"p1: {label}")
            if json_dir:
                json_dir.mkdir(parents=True, exist_ok=True)
                (json_dir / f"{label.replace(' ', '_')}.json").write_text(verdict.result.model_dump_json(indent=2))


@sandbox_app.command("build")
def sandbox_build(
    gpu: bool = typer.Option(
        False,
        "--gpu",
        help="the CUDA image: torch's CUDA build "
        "(GRADER_SANDBOX_CUDA), every other package the same; "
        "needs no GPU to build",
    ),
) -> None:
    """Build the sandbox image with no registry (debootstrap + wheelhouse); skipped when its tag exists."""
    from grader.sandbox.image import ensure_image
    from grader.sandbox.select import docker_client

    settings = _settings()
    try:
        client = docker_client(settings)
    except Exception as error:  # the SDK raises several unrelated types when no engine answers
        errors.print(
            f"[red]no Docker engine answers: {error}[/red]\nstart one with: sudo bash sandbox/start-dockerd.sh"
        )
        raise typer.Exit(2)
    tag = ensure_image(
        client,
        settings.sandbox_dir,
        settings.data_dir / "sandbox-build",
        progress=lambda line: console.print(f"[dim]{line}[/dim]"),
        cuda=settings.sandbox_cuda if gpu else None,
    )
    console.print(f"sandbox image: {tag}")


@app.command("result-schema")
def result_schema() -> None:
    """Print the JSON schema of the result file written by `grade --json`."""
    from grader.domain.result import GradeResult

    console.print_json(json.dumps(GradeResult.model_json_schema()))


def _exit_on_sigterm(_signum, _frame) -> None:
    raise SystemExit(143)  # unwinds like Ctrl-C, so every sandbox is killed and removed in its `finally`


def main() -> None:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    app()
