from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from grader.domain.result import GradeResult
from grader.gradebook.accounts import RosterEntry
from grader.gradebook.repository import Gradebook
from grader.pipeline import accept_submission
from grader.queue.claims import JobClaims
from grader.queue.inprocess import InProcessQueue
from grader.settings import Settings
from tests.web.conftest import GRADING_TIMEOUT_S, SOLUTIONS


def _submit(settings: Settings, session_factory: sessionmaker, solution: str) -> int:
    stored = accept_submission(SOLUTIONS / solution, "solution.py", "p1", settings)
    with session_factory.begin() as session:
        gradebook = Gradebook(session)
        student = (
            gradebook.accounts.user_by_email("dora@example.edu")
            or gradebook.accounts.add_user(RosterEntry("dora@example.edu", "Dora"), "student")[0]
        )
        return gradebook.submissions.record_submission(
            student.id, "p1", stored.sha256, stored.kind, "solution.py", stored.size_bytes
        ).job_id


def _wait_done(session_factory: sessionmaker, job_id: int) -> None:
    deadline = time.monotonic() + GRADING_TIMEOUT_S
    while time.monotonic() < deadline:
        with session_factory() as session:
            if Gradebook(session).submissions.job(job_id).state == "done":
                return
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} not done")


def _status_and_score(session_factory: sessionmaker, job_id: int) -> tuple[str, float]:
    with session_factory() as session:
        gradebook = Gradebook(session)
        record = gradebook.submissions.current_record(gradebook.submissions.job(job_id).submission_id)
        return record.status, record.score


def test_a_job_left_running_by_a_crash_is_requeued_at_start_and_graded(settings: Settings, session_factory):
    job_id = _submit(settings, session_factory, "right.py")
    with session_factory.begin() as session:
        session.execute(sa.text("UPDATE grading_jobs SET state = 'running' WHERE id = :id"), {"id": job_id})

    queue = InProcessQueue(settings, session_factory)
    queue.start()
    try:
        _wait_done(session_factory, job_id)
    finally:
        queue.stop()
    assert _status_and_score(session_factory, job_id) == ("graded", 16.0)


def test_a_job_is_claimed_by_one_worker_only(settings: Settings, session_factory):
    job_id = _submit(settings, session_factory, "right.py")
    with session_factory.begin() as session:
        assert JobClaims(session).claim(job_id) is not None
    with session_factory.begin() as session:
        assert JobClaims(session).claim(job_id) is None


def test_a_grader_crash_is_stored_as_an_infra_error_that_never_counts(settings: Settings, session_factory):
    def broken_pipeline(sha256: str, assignment_id: str, _: Settings) -> GradeResult:
        raise RuntimeError("sandbox vanished")

    job_id = _submit(settings, session_factory, "right.py")
    queue = InProcessQueue(settings, session_factory, grade=broken_pipeline)
    queue.start()
    queue.enqueue(job_id)
    try:
        _wait_done(session_factory, job_id)
    finally:
        queue.stop()
    with session_factory() as session:
        gradebook = Gradebook(session)
        job = gradebook.submissions.job(job_id)
        assert "sandbox vanished" in job.error
        assert gradebook.submissions.current_record(job.submission_id).status == "infra_error"
        [attempt] = gradebook.submissions.attempts(job.submission.user_id, "p1")
        assert attempt.status == "infra_error"


def test_a_job_queued_while_no_worker_ran_is_graded_at_the_next_start(settings: Settings, session_factory):
    job_id = _submit(settings, session_factory, "half.py")  # committed, never handed to a worker
    queue = InProcessQueue(settings, session_factory)
    queue.start()
    try:
        _wait_done(session_factory, job_id)
    finally:
        queue.stop()
    assert _status_and_score(session_factory, job_id) == ("graded", 10.0)


def test_a_polling_queue_grades_a_job_another_process_committed_after_it_started(settings: Settings, session_factory):
    queue = InProcessQueue(settings, session_factory, poll_s=0.1)  # how `grader serve`'s grading process runs
    queue.start()
    try:
        job_id = _submit(settings, session_factory, "right.py")  # committed by "a web process"; never enqueued here
        _wait_done(session_factory, job_id)
    finally:
        queue.stop()
    assert _status_and_score(session_factory, job_id) == ("graded", 16.0)
