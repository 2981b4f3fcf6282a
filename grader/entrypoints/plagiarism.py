"""`grader plagiarism` and `grader plagiarism-review` (registered by grader/entrypoints/cli.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from grader.plagiarism.submissions import ReadLimits, Unreadable, load_paths
from grader.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# The detector (FAISS, scipy) and the gradebook (SQLAlchemy) are imported inside the commands that use them: every
# `grader` call loads this module (grader/entrypoints/cli.py).


def _open_session(settings: Settings) -> Session:
    from sqlalchemy import inspect

    from grader.db.base import make_engine, make_session_factory

    engine = make_engine(settings.effective_database_url)
    if not inspect(engine).has_table("plagiarism_cases"):
        typer.echo("The plagiarism_cases table is missing: apply the gradebook's database migrations first.", err=True)
        raise typer.Exit(2)
    return make_session_factory(engine)()


def plagiarism(
    submissions: list[Path] = typer.Argument(
        None, help="Folders holding one file or folder per student, or single submissions.", exists=True
    ),
    assignment: Optional[str] = typer.Option(
        None,
        "--assignment",
        help="Assignment id: its handout (assignments/ID/starter) is starter code, its assignments/ID/known_sources are"
        " known sources, and flagged pairs open review cases.",
    ),
    starter: list[Path] = typer.Option(
        [], "--starter", help="Starter code (file or folder) to ignore; repeatable.", exists=True
    ),
    known_source: list[Path] = typer.Option(
        [],
        "--known-source",
        help="Code the assignment was taught from (lecture code, a textbook's recipe; file or folder): what two"
        " submissions share because both follow it is not evidence of copying; repeatable.",
        exists=True,
    ),
    against: list[Path] = typer.Option(
        [],
        "--against",
        help="Archive folder (earlier years, reference solution, public sources); repeatable.",
        exists=True,
    ),
    report: Optional[Path] = typer.Option(None, "--report", help="HTML report to write."),
    json_path: Optional[Path] = typer.Option(None, "--json", help="JSON for tools: pairs, clusters, skipped."),
    csv_path: Optional[Path] = typer.Option(None, "--csv", help="CSV of the listed pairs."),
    threshold: Optional[float] = typer.Option(
        None,
        "--threshold",
        min=0.0,
        max=1.0,
        help="Score from which a pair is flagged (default: the calibration's, which 1 % of the dev set's independent pairs reach).",
    ),
    cohort_share: float = typer.Option(
        0.3,
        "--cohort-share",
        min=0.0,
        max=1.0,
        help="Fingerprints shared by more than this share of the cohort are boilerplate.",
    ),
    top: int = typer.Option(200, "--top", min=1, help="Pairs listed besides all flagged ones."),
    flag: bool = typer.Option(True, "--flag/--no-flag", help="With --assignment, open review cases for flagged pairs."),
) -> None:
    """Rank suspicious pairs and groups of submissions (token fingerprints + code-unit embeddings, starter and known
    sources removed)."""
    from grader.plagiarism.detector import DetectorSettings
    from grader.plagiarism.fingerprints import FingerprintSettings
    from grader.plagiarism.report import case_records, render_html, write_csv, write_json
    from grader.plagiarism.runs import assignment_known_code, detect_submissions, load_archives

    settings = Settings()
    if not submissions:
        raise typer.BadParameter("give the submissions to compare (a folder with one entry per student)")
    limits = ReadLimits.of(settings)
    try:
        known = assignment_known_code(settings, assignment, limits, starter, known_source)
    except Unreadable as error:
        raise typer.BadParameter(str(error)) from error
    cohort, skipped = load_paths(list(submissions), limits=limits)
    archives, unreadable_archives = load_archives(against, limits)
    skipped.extend(unreadable_archives)
    detector_settings = DetectorSettings(
        fingerprints=FingerprintSettings(cohort_share=cohort_share), flag_threshold=threshold, report_top=top
    )
    detection = detect_submissions(settings, cohort, archives, known, skipped, detector_settings)
    if json_path:
        write_json(detection, json_path)
    if csv_path:
        write_csv(detection, csv_path)
    if report:
        render_html(detection, report, title=f"Plagiarism report{f' — {assignment}' if assignment else ''}")
    flagged = [pair for pair in detection.pairs if pair.score >= detection.flag_threshold]
    typer.echo(
        f"{len(cohort)} submissions, {len(archives)} archived, {len(skipped)} skipped; {len(flagged)} pairs at or above {detection.flag_threshold:.3f}, {len(detection.clusters)} clusters"
    )
    for pair in flagged[:10]:
        typer.echo(f"  {pair.score:.3f}  {pair.a} <-> {pair.b}  (driven by {pair.driver})")
    for item in skipped:
        typer.echo(f"  skipped {item.name}: {item.reason}")
    if assignment is not None and flag and flagged:
        from grader.plagiarism.review import flag_pairs

        with _open_session(settings) as session, session.begin():
            opened = flag_pairs(session, assignment, case_records(detection), detection.flag_threshold)
        typer.echo(f"{len(opened)} cases under review for {assignment}")


review_app = typer.Typer(
    help="Review flagged plagiarism cases: an instructor confirms or dismisses each with a comment.",
    no_args_is_help=True,
)


@review_app.command("list")
def list_cases(
    assignment: Optional[str] = typer.Option(None, "--assignment"),
    status: Optional[str] = typer.Option(None, "--status", help="flagged, confirmed or dismissed"),
) -> None:
    """List cases, highest score first."""
    from grader.plagiarism.review import cases

    with _open_session(Settings()) as session:
        for case in cases(session, assignment, status):  # type: ignore[arg-type]
            decided = f" by {case.decided_by}: {case.comment}" if case.decided_by else ""
            typer.echo(
                f"{case.id}\t{case.assignment_id}\t{case.student_a}\t{case.student_b}\t{case.score:.3f}\t{case.status}{decided}"
            )


def _decide(case_id: int, status: str, comment: str, instructor: str) -> None:
    from grader.plagiarism.review import CaseNotFound, decide

    with _open_session(Settings()) as session, session.begin():
        try:
            case = decide(session, case_id, status, comment, instructor)  # type: ignore[arg-type]
        except (CaseNotFound, ValueError) as error:
            typer.echo(str(error), err=True)
            raise typer.Exit(1) from error
        typer.echo(f"case {case.id} ({case.student_a}, {case.student_b}) {case.status}")


@review_app.command("confirm")
def confirm(
    case_id: int,
    comment: str = typer.Option(..., "--comment"),
    instructor: str = typer.Option(..., "--by", help="The deciding instructor."),
) -> None:
    """Confirm a case: the course penalty applies to both students."""
    _decide(case_id, "confirmed", comment, instructor)


@review_app.command("dismiss")
def dismiss(
    case_id: int,
    comment: str = typer.Option(..., "--comment"),
    instructor: str = typer.Option(..., "--by", help="The deciding instructor."),
) -> None:
    """Dismiss a case (e.g. shared boilerplate, allowed collaboration)."""
    _decide(case_id, "dismissed", comment, instructor)
