"""Detector runs asked for on the dashboard: queued as a `PlagiarismRun` row by a web process, carried out by whatever
grades (the grading process of `grader serve`, or every `grader worker` under Celery: `serve_runs`), over the counting
attempt of every student of one project. Flagged pairs open review cases that hold the report's side-by-side view."""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from grader import store
from grader.db.base import utcnow
from grader.db.plagiarism_models import PlagiarismRun
from grader.plagiarism.known_code import KnownCode
from grader.plagiarism.review import flag_pairs
from grader.plagiarism.submissions import (
    ReadLimits,
    Skipped,
    SourceFile,
    SubmittedCode,
    Unreadable,
    load_paths,
    read_entry,
)
from grader.settings import Settings
from grader.submission_files import Rejected

if TYPE_CHECKING:
    from grader.plagiarism.detector import Detection, DetectorSettings

# The detector (FAISS, torch) is imported only where a run is carried out: web processes import this module to queue
# runs and list them.

log = logging.getLogger(__name__)


def handout_starter(settings: Settings, assignment_id: str) -> Path | None:
    """The project's starter code, which every student begins from and which is not evidence of copying."""
    folder = settings.assignments_dir / assignment_id / "starter"
    return folder if folder.is_dir() else None


def registered_known_sources(settings: Settings, assignment_id: str) -> Path | None:
    """The code the project was taught from (lecture code, a textbook's recipe), if the instructor registered it in
    assignments/ID/known_sources: what solutions share because both follow it is not evidence of copying either."""
    folder = settings.assignments_dir / assignment_id / "known_sources"
    return folder if folder.is_dir() else None


def assignment_known_code(
    settings: Settings,
    assignment_id: str | None,
    limits: ReadLimits,
    starter: Sequence[Path] = (),
    sources: Sequence[Path] = (),
) -> KnownCode:
    """`starter` and `sources` given by the instructor, plus the assignment's own (its handout's starter, its
    registered known sources). Raises `Unreadable` naming the entry that cannot be read."""
    starter_paths, source_paths = list(starter), list(sources)
    if assignment_id is not None:
        starter_paths += [path for path in [handout_starter(settings, assignment_id)] if path]
        source_paths += [path for path in [registered_known_sources(settings, assignment_id)] if path]
    return KnownCode(_read_all(starter_paths, limits, "starter"), _read_all(source_paths, limits, "known source"))


def _read_all(paths: list[Path], limits: ReadLimits, what: str) -> tuple[SourceFile, ...]:
    files: list[SourceFile] = []
    for path in paths:
        try:
            files.extend(read_entry(path, limits))
        except (Unreadable, Rejected, OSError) as error:
            raise Unreadable(f"{what} {path}: {error}") from error
    return tuple(files)


def load_archives(paths: Sequence[Path], limits: ReadLimits) -> tuple[list[SubmittedCode], list[Skipped]]:
    """Archive folders (earlier years, a reference solution, public sources), each entry named after its folder."""
    archives: list[SubmittedCode] = []
    skipped: list[Skipped] = []
    for archive in paths:
        found, failed = load_paths([archive], origin=archive.name, limits=limits)
        archives.extend(found)
        skipped.extend(failed)
    return archives, skipped


def detect_submissions(
    settings: Settings,
    cohort: list[SubmittedCode],
    archives: list[SubmittedCode],
    known: KnownCode,
    skipped: list[Skipped],
    detector_settings: DetectorSettings,
) -> Detection:
    """The detector with the course's embedding model, cache and calibration (the CLI and the dashboard's runs)."""
    from grader.plagiarism.calibration import load_calibration
    from grader.plagiarism.detector import detect
    from grader.plagiarism.embeddings import EmbeddingCache, SentenceEncoder

    cache_folder = settings.data_dir / "plagiarism-cache"
    encoder = SentenceEncoder(settings.embedding_model, graph_folder=cache_folder)
    return detect(
        cohort,
        archives,
        known,
        skipped,
        encoder,
        EmbeddingCache(cache_folder, encoder.name),
        load_calibration(),
        detector_settings,
    )


def request_run(session: Session, assignment_id: str, requested_by: str) -> PlagiarismRun:
    run = PlagiarismRun(assignment_id=assignment_id, requested_by=requested_by, state="queued")
    session.add(run)
    session.flush()
    return run


def runs(session: Session, limit: int = 20) -> list[PlagiarismRun]:
    return list(session.scalars(select(PlagiarismRun).order_by(PlagiarismRun.id.desc()).limit(limit)))


def requeue_interrupted_runs(session: Session) -> None:
    """A run left 'running' by a stopped grading process never finished: queue it again."""
    session.execute(update(PlagiarismRun).where(PlagiarismRun.state == "running").values(state="queued"))


def queued_run_ids(session: Session) -> list[int]:
    return list(
        session.scalars(select(PlagiarismRun.id).where(PlagiarismRun.state == "queued").order_by(PlagiarismRun.id))
    )


def _claim(session: Session, run_id: int) -> PlagiarismRun | None:
    claimed = session.execute(
        update(PlagiarismRun).where(PlagiarismRun.id == run_id, PlagiarismRun.state == "queued").values(state="running")
    ).rowcount
    return session.get(PlagiarismRun, run_id) if claimed else None


def _counting_trees(settings: Settings, session: Session, assignment_id: str) -> dict[str, Path]:
    """Student e-mail -> the stored files of their counting attempt of the project."""
    from grader.gradebook.catalog import course_assignments
    from grader.gradebook.report import gradebook_rows
    from grader.gradebook.repository import Gradebook
    from grader.gradebook.rules import load_course_rules
    from grader.pipeline import ensure_in_store

    rules = load_course_rules(settings)
    assignments = course_assignments(settings, rules)
    gradebook = Gradebook(session)
    trees = {}
    for row in gradebook_rows(gradebook, assignments, rules):
        project = next(p for p in row.standing.projects if p.assignment_id == assignment_id)
        if project.counting_submission_id is None:
            continue
        submission = gradebook.submissions.submission(project.counting_submission_id)
        ensure_in_store(settings, gradebook, submission.sha256, assignment_id)
        trees[row.user.email] = store.get(settings.store_dir, submission.sha256).tree
    return trees


def _detect_project(settings: Settings, session: Session, assignment_id: str) -> str:
    from grader.plagiarism.detector import DetectorSettings
    from grader.plagiarism.report import case_records

    trees = _counting_trees(settings, session, assignment_id)
    if len(trees) < 2:
        return f"{len(trees)} counting attempt(s) of {assignment_id}: nothing to compare"
    limits = ReadLimits.of(settings)
    known = assignment_known_code(settings, assignment_id, limits)
    with tempfile.TemporaryDirectory(prefix="plagiarism-run-") as folder:
        for email, tree in trees.items():  # one folder per student, named as the cases name them
            shutil.copytree(tree, Path(folder) / email)
        cohort, skipped = load_paths([Path(folder)], limits=limits)
        detection = detect_submissions(settings, cohort, [], known, skipped, DetectorSettings())
    opened = flag_pairs(session, assignment_id, case_records(detection), detection.flag_threshold)
    return (
        f"{len(cohort)} counting attempts compared, {len(skipped)} skipped; {len(opened)} pairs at or above "
        f"{detection.flag_threshold:.3f} under review"
    )


def execute_run(run_id: int, settings: Settings, session_factory: sessionmaker) -> bool:
    """Claim the run, detect, open cases and record what was found (or why it failed). False: not queued any more."""
    with session_factory.begin() as session:
        run = _claim(session, run_id)
        if run is None:
            return False
        assignment_id = run.assignment_id
    try:
        with session_factory.begin() as session:
            summary, state = _detect_project(settings, session, assignment_id), "done"
    except Exception as error:  # recorded on the run, for the dashboard, rather than lost in a thread
        log.exception("plagiarism run %s failed", run_id)
        summary, state = f"failed: {type(error).__name__}: {error}", "failed"
    with session_factory.begin() as session:
        session.execute(
            update(PlagiarismRun)
            .where(PlagiarismRun.id == run_id)
            .values(state=state, summary=summary, finished_at=utcnow())
        )
    return True


def serve_runs(
    settings: Settings, session_factory: sessionmaker, stopping: threading.Event, poll_s: float = 1.0
) -> None:
    """Carry out queued detector runs, one at a time, until `stopping` is set. Several processes may serve at once
    (Celery workers on many hosts): each run is claimed with a compare-and-set, so it is carried out once."""
    while not stopping.wait(poll_s):
        with session_factory() as session:
            run_ids = queued_run_ids(session)
        for run_id in run_ids:
            if stopping.is_set():
                return
            execute_run(run_id, settings, session_factory)
