"""The batch service: store every student's submission, queue what is not graded yet, wait, read the results back.

All bookkeeping is the gradebook's: a submission row per (student, content), a job per grading. Re-running after an
interruption finds the jobs still queued or running and waits for them; a submission already graded at the current
assignment version (its sha256 and `assignment_version` match) gets no new job unless `regrade` is asked."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from grader import course_files, intake
from grader.batch.discover import BatchEntry
from grader.db.base import utcnow
from grader.db.models import GradeRecord, GradingJob, User
from grader.db.worker_models import BatchRun
from grader.domain.assignment import Assignment
from grader.gradebook.accounts import RosterEntry
from grader.gradebook.repository import Gradebook
from grader.pipeline import accept_into_store
from grader.queue.base import GradingQueue
from grader.queue.heartbeat import GradingCapacity, grading_capacity
from grader.queue.select import select_queue
from grader.settings import Settings

PLACEHOLDER_EMAIL_DOMAIN = "students.invalid"  # accounts created for student ids not on the roster yet
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


def student_account(gradebook: Gradebook, student: str) -> User:
    """The roster account of `student` (by student number, else e-mail), created when the roster lacks it."""
    user = gradebook.accounts.student_by_number(student) or gradebook.accounts.user_by_email(student)
    if user is None:
        user, _ = gradebook.accounts.add_user(
            RosterEntry(f"{student.lower()}@{PLACEHOLDER_EMAIL_DOMAIN}", student, student_number=student), "student"
        )
    return user


def plan_entry(
    gradebook: Gradebook,
    assignment: Assignment,
    entry: BatchEntry,
    stored_sha256: str,
    kind: str,
    size_bytes: int,
    regrade: bool,
) -> PlannedEntry:
    user = student_account(gradebook, entry.student)
    submissions = gradebook.submissions
    submission = submissions.latest_with_content(user.id, assignment.id, stored_sha256)
    if submission is None:
        recorded = submissions.record_submission(
            user.id, assignment.id, stored_sha256, kind, entry.original_name, size_bytes
        )
        return PlannedEntry(entry, recorded.submission_id, recorded.job_id)
    job = submissions.latest_job(submission.id)
    if job is not None and job.state != "done":
        return PlannedEntry(entry, submission.id, job.id)  # interrupted earlier: wait for it (the queue resumes it)
    record = submissions.current_record(submission.id)
    if (
        record is not None
        and not regrade
        and record.status != "infra_error"
        and record.result.get("assignment_version") == assignment.version
    ):
        return PlannedEntry(entry, submission.id, None)
    return PlannedEntry(entry, submission.id, submissions.grade_again(submission.id))


def plan_batch(
    settings: Settings,
    session_factory: sessionmaker,
    assignment: Assignment,
    entries: Sequence[BatchEntry],
    regrade: bool,
) -> list[PlannedEntry]:
    """Store each submission (intake rejections are kept as such) and record what must be graded, one commit each."""
    planned = []
    for entry in entries:
        try:
            stored = accept_into_store(settings, assignment, entry.path, entry.original_name)
        except intake.Rejected as rejection:
            planned.append(PlannedEntry(entry, None, None, rejection=str(rejection)))
            continue
        with session_factory.begin() as session:
            planned.append(
                plan_entry(
                    Gradebook(session), assignment, entry, stored.sha256, stored.kind, stored.size_bytes, regrade
                )
            )
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
