"""One `grader batch` run: a cohort's folder or LMS export graded into the gradebook, then results.csv and
summary.html written from what the gradebook holds."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader import course_files
from grader.batch.discover import discover
from grader.batch.report import collect_results, write_reports
from grader.batch.service import PlannedEntry, ProgressCallback, run_batch
from grader.db.base import make_engine, make_session_factory
from grader.db.migrations import upgrade_to_head
from grader.settings import Settings

EXPORT_CAP_SUBMISSIONS = 64  # an LMS export may expand to this many submissions at the per-submission cap


@dataclass(frozen=True)
class CohortRun:
    planned: list[PlannedEntry]
    csv_path: Path
    html_path: Path

    @property
    def already_graded(self) -> int:
        """Students whose submission was graded at this version before this run."""
        return sum(1 for p in self.planned if p.job_id is None and p.submission_id is not None)

    @property
    def rejected(self) -> int:
        """Students whose submission intake refused."""
        return sum(1 for p in self.planned if p.submission_id is None)


def grade_cohort(
    settings: Settings,
    source: Path,
    assignment_id: str,
    out: Path,
    regrade: bool,
    on_students: Callable[[int], None],
    on_progress: ProgressCallback,
) -> CohortRun:
    """Raises `CourseFileError` for an unknown assignment (before the database is touched), `BatchSourceError` for
    a source that holds no submissions, `NoLiveWorker` when Celery workers stay away."""
    rubric = course_files.load_rubric(settings, assignment_id)
    title = f"{assignment_id}: {course_files.load_assignment(settings, assignment_id).title}"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_to_head(settings.effective_database_url)
    engine = make_engine(settings.effective_database_url)
    session_factory = make_session_factory(engine)
    try:
        with tempfile.TemporaryDirectory(prefix="grader-batch-") as workdir:
            entries = discover(source, Path(workdir), settings.max_expanded_bytes * EXPORT_CAP_SUBMISSIONS)
            on_students(len(entries))
            planned = run_batch(settings, session_factory, assignment_id, entries, source, regrade, on_progress)
        csv_path, html_path = write_reports(out, title, rubric, collect_results(session_factory, planned))
    finally:
        engine.dispose()
    return CohortRun(planned, csv_path, html_path)
