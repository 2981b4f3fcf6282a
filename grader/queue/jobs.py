"""One grading job, start to finish. Any worker (thread, Celery task) calls `run_grading_job`."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import sessionmaker

from grader.db.base import make_engine, make_session_factory
from grader.domain.result import GradeResult
from grader.gradebook.repository import Gradebook
from grader.pipeline import ensure_in_store, grade_stored
from grader.settings import Settings

log = logging.getLogger(__name__)

GradeFunction = Callable[[str, str, Settings], GradeResult]


def recover_interrupted_jobs(session_factory: sessionmaker) -> list[int]:
    """Put jobs a crashed process left 'running' back to 'queued'; return every queued job id, oldest first."""
    with session_factory.begin() as session:
        gradebook = Gradebook(session)
        gradebook.requeue_interrupted_jobs()
        return gradebook.queued_job_ids()


def execute_job(job_id: int, settings: Settings, session_factory: sessionmaker, grade: GradeFunction) -> bool:
    """Claim the job, grade its submission, store the result. False when another worker already had it."""
    with session_factory.begin() as session:
        job = Gradebook(session).claim_job(job_id)
        if job is None:
            return False
        sha256, assignment_id = job.submission.sha256, job.submission.assignment_id
    result: dict | None = None
    error: str | None = None
    try:
        with session_factory() as session:
            ensure_in_store(settings, Gradebook(session), sha256, assignment_id)
        result = grade(sha256, assignment_id, settings).model_dump(mode="json")
    except Exception as exc:  # the pipeline already retried infra errors; record the failure rather than lose the job
        log.exception("grading job %s failed", job_id)
        error = f"{type(exc).__name__}: {exc}"
        result = GradeResult(assignment=assignment_id, submission_sha256=sha256, status="infra_error",
                             message="The grader failed on this submission; it does not count as an attempt and can be regraded.",
                             ).model_dump(mode="json")
    with session_factory.begin() as session:
        gradebook = Gradebook(session)
        gradebook.finish_job(gradebook.job(job_id), result, error)
    return True


def run_grading_job(job_id: int, settings: Settings) -> bool:
    """Entry point for workers that hold nothing but settings (e.g. a Celery task)."""
    engine = make_engine(settings.effective_database_url)
    try:
        return execute_job(job_id, settings, make_session_factory(engine), grade_stored)
    finally:
        engine.dispose()
