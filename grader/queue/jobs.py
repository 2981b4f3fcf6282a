"""One grading job, start to finish. Any worker (thread, Celery task) calls `execute_job`."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import sessionmaker

from grader.db.models import GradingJob
from grader.domain.result import GradeResult
from grader.gradebook.repository import Gradebook
from grader.pipeline import ensure_in_store
from grader.queue.claims import JobClaims
from grader.queue.identity import WorkerIdentity
from grader.settings import Settings

log = logging.getLogger(__name__)

GradeFunction = Callable[[str, str, Settings], GradeResult]


def recover_interrupted_jobs(session_factory: sessionmaker) -> list[int]:
    """Put jobs a crashed process left 'running' back to 'queued'; return every queued job id, oldest first."""
    with session_factory.begin() as session:
        claims = JobClaims(session)
        claims.requeue_interrupted()
        return claims.queued_ids()


def execute_job(
    job_id: int, settings: Settings, session_factory: sessionmaker, grade: GradeFunction, worker: WorkerIdentity
) -> bool:
    """Claim the job for `worker`, grade its submission, store the result. False when another worker already had it."""
    with session_factory.begin() as session:
        job = JobClaims(session).claim(job_id)
        if job is None:
            return False
        job.worker_host, job.worker_pid, job.worker_gpu, job.sandbox_image = worker.host, worker.pid, worker.gpu, None
        sha256, assignment_id = job.submission.sha256, job.submission.assignment_id
    error: str | None = None
    try:
        with session_factory() as session:
            ensure_in_store(settings, Gradebook(session), sha256, assignment_id)
        graded = grade(sha256, assignment_id, settings)
        if graded.sandbox is not None:
            graded.sandbox.worker = worker.info()
    except Exception as exc:  # the pipeline already retried infra errors; record the failure rather than lose the job
        log.exception("grading job %s failed", job_id)
        error = f"{type(exc).__name__}: {exc}"
        graded = GradeResult(
            assignment=assignment_id,
            submission_sha256=sha256,
            status="infra_error",
            message="The grader failed on this submission; it does not count as an attempt and can be regraded.",
        )
    with session_factory.begin() as session:
        job = session.get(GradingJob, job_id)
        job.sandbox_image = graded.sandbox.image if graded.sandbox is not None else None
        JobClaims(session).finish(job, graded.model_dump(mode="json"), error)
    return True
