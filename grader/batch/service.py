"""The batch service: store every student's submission, queue what is not graded yet, wait, read the results back.

Each entry is stored and recorded through the services the web uses (grader/services/uploads.py, cohort.py): a
submission row per (student, content), a job per grading. Re-running after an interruption finds the jobs still queued
or running and waits for them; a submission already graded at the current assignment version gets no new job unless
`regrade` is asked."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from grader import course_files
from grader.batch.discover import BatchEntry
from grader.db.base import utcnow
from grader.db.models import GradeRecord, GradingJob
from grader.db.worker_models import BatchRun
from grader.domain.assignment import Assignment
from grader.gradebook.repository import Gradebook
from grader.queue.base import GradingQueue
from grader.queue.heartbeat import GradingCapacity, grading_capacity
from grader.queue.select import select_queue
from grader.services import uploads
from grader.services.access import InvalidInput
from grader.services.cohort import record_for_grading, student_account
from grader.settings import Settings

POLL_S = 0.5


@dataclass(frozen=True)
class PlannedEntry:
    entry: BatchEntry
    submission_id: int | None  # None: rejected at intake
    job_id: int | None  # the job to wait for; None when the current result stands
    rejection: str | None = None


@dataclass(frozen=True)
class BatchProgress:
    total: int
    done: int
    graded: int
    errored: int
    timed_out: int
    live_workers: int | None = None  # Celery: workers alive now; None when this process grades
    waiting_for_dead_holder: int = 0


ProgressCallback = Callable[[BatchProgress], None]
CapacityCheck = Callable[[], GradingCapacity]


class NoLiveWorker(Exception):
    """No grading worker was alive for `Settings.batch_no_worker_s`; the batch's jobs stay queued."""

    def __init__(self, progress: BatchProgress, waited_s: float) -> None:
        self.progress = progress
        self.waited_s = waited_s
        super().__init__(
            f"no grading worker has been alive for {waited_s:.0f} s (GRADER_BATCH_NO_WORKER_S): "
            f"{progress.total - progress.done} of {progress.total} jobs are not graded yet and stay queued. "
            "Start `grader worker` on a grading host (same GRADER_BROKER_URL and GRADER_DATABASE_URL), "
            "then run this command again to continue."
        )


def plan_batch(
    settings: Settings,
    session_factory: sessionmaker,
    assignment: Assignment,
    entries: Sequence[BatchEntry],
    regrade: bool,
) -> list[PlannedEntry]:
    """Store each submission (intake rejections are kept as such) and record what must be graded, one commit each,
    through the same upload service as the web's uploads."""
    planned = []
    for entry in entries:
        try:
            stored = uploads.store_file(settings, assignment, entry.path, entry.original_name)
        except InvalidInput as rejection:
            planned.append(PlannedEntry(entry, None, None, rejection=str(rejection)))
            continue
        with session_factory.begin() as session:
            gradebook = Gradebook(session)
            student = student_account(gradebook, entry.student)
            new = uploads.submission_of(student.id, assignment.id, stored)
            recorded = record_for_grading(gradebook, new, assignment.version, regrade)
        planned.append(PlannedEntry(entry, recorded.submission_id, recorded.job_id))
    return planned


def progress_of(session_factory: sessionmaker, job_ids: Sequence[int]) -> BatchProgress:
    with session_factory() as session:
        done = list(
            session.execute(
                select(GradingJob.id, GradeRecord.status)
                .join(GradeRecord, GradeRecord.job_id == GradingJob.id, isouter=True)
                .where(GradingJob.id.in_(job_ids), GradingJob.state == "done")
            )
        )
    statuses = [status for _, status in done]
    return BatchProgress(
        total=len(job_ids),
        done=len(done),
        graded=statuses.count("graded"),
        timed_out=statuses.count("timeout"),
        errored=len(statuses) - statuses.count("graded") - statuses.count("timeout"),
    )


def wait_for_jobs(
    queue: GradingQueue,
    session_factory: sessionmaker,
    job_ids: Sequence[int],
    on_progress: ProgressCallback,
    capacity: CapacityCheck | None = None,
    no_worker_s: float = math.inf,
) -> BatchProgress:
    """Start the queue and return once the jobs are done. Interrupted, they stay queued/running for a rerun.
    With `capacity` (workers elsewhere), raise `NoLiveWorker` once no worker was alive for `no_worker_s`."""
    queue.start()  # hands over every queued job, these included: they were committed as queued before
    no_worker_since: float | None = None
    try:
        while True:
            progress = progress_of(session_factory, job_ids)
            if capacity is not None:
                seen = capacity()
                progress = replace(
                    progress, live_workers=seen.live_workers, waiting_for_dead_holder=seen.waiting_for_dead_holder
                )
                no_worker_since = None if seen.live_workers else (no_worker_since or time.monotonic())
            on_progress(progress)
            if progress.done == progress.total:
                return progress
            if no_worker_since is not None and time.monotonic() - no_worker_since >= no_worker_s:
                raise NoLiveWorker(progress, time.monotonic() - no_worker_since)
            time.sleep(POLL_S)
    finally:
        queue.stop()


def run_batch(
    settings: Settings,
    session_factory: sessionmaker,
    assignment_id: str,
    entries: Sequence[BatchEntry],
    source: Path,
    regrade: bool,
    on_progress: ProgressCallback,
) -> list[PlannedEntry]:
    assignment = course_files.load_assignment(settings, assignment_id)
    planned = plan_batch(settings, session_factory, assignment, entries, regrade)
    job_ids = [p.job_id for p in planned if p.job_id is not None]
    with session_factory.begin() as session:
        run = BatchRun(
            assignment_id=assignment_id,
            assignment_version=assignment.version,
            source=str(source)[:1024],
            students=len(entries),
            queued=len(job_ids),
        )
        session.add(run)
    capacity = (lambda: grading_capacity(session_factory, settings, job_ids)) if settings.queue == "celery" else None
    wait_for_jobs(
        select_queue(settings, session_factory),
        session_factory,
        job_ids,
        on_progress,
        capacity,
        settings.batch_no_worker_s,
    )
    with session_factory.begin() as session:
        session.get(BatchRun, run.id).finished_at = utcnow()
    return planned
