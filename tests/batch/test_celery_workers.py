"""Real redis-server, real `grader worker` processes: every submission is graded exactly once, even when a worker is
SIGKILLed in the middle of a grading."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from grader.batch.discover import discover
from grader.batch.service import BatchProgress, run_batch
from grader.db.base import utcnow
from grader.db.models import GradeRecord, GradingJob
from grader.db.worker_models import JobHolder
from tests.batch.conftest import cohort, job_states, records_per_submission, write_submissions

pytestmark = [pytest.mark.redis, pytest.mark.slow]

BATCH_TIMEOUT_S = 300


def run_in_background(settings, session_factory, source: Path) -> threading.Thread:
    entries = discover(source, source.parent, 10**8)
    progress: list[BatchProgress] = []
    thread = threading.Thread(
        target=run_batch, args=(settings, session_factory, "p1", entries, source, False, progress.append), daemon=True
    )
    thread.start()
    return thread


def test_thirty_submissions_on_two_workers_are_graded_once_each(
    tmp_path, celery_env, settings_from, gradebook_factory, start_workers
):
    settings = settings_from(celery_env)
    session_factory = gradebook_factory(settings)
    workers = start_workers(2, session_factory)
    source = write_submissions(tmp_path / "cohort", cohort(30))

    batch = run_in_background(settings, session_factory, source)
    batch.join(BATCH_TIMEOUT_S)

    assert not batch.is_alive(), f"batch not finished: {job_states(session_factory)}\n{workers.output()}"
    counts = records_per_submission(session_factory)
    assert len(counts) == 30
    assert set(counts.values()) == {1}
    assert job_states(session_factory) == {"done": 30}


def held_job(session_factory) -> JobHolder | None:
    """A job a worker is grading right now (claimed: 'running', with its holder row)."""
    with session_factory() as session:
        return session.scalar(
            select(JobHolder)
            .join(GradingJob, GradingJob.id == JobHolder.job_id)
            .where(GradingJob.state == "running")
            .limit(1)
        )


def test_a_worker_killed_mid_job_loses_nothing_and_grades_nothing_twice(
    tmp_path, celery_env, settings_from, gradebook_factory, start_workers
):
    settings = settings_from(celery_env)
    session_factory = gradebook_factory(settings)
    workers = start_workers(2, session_factory)
    slow = {
        student: source.replace("def add", "import time\ntime.sleep(4)\n\n\ndef add", 1)
        for student, source in cohort(6, prefix="# slow\n").items()
    }
    source = write_submissions(tmp_path / "slow", slow)

    batch = run_in_background(settings, session_factory, source)
    deadline = time.monotonic() + BATCH_TIMEOUT_S
    while (holder := held_job(session_factory)) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert holder is not None, workers.output()
    victim_pid = int(holder.worker_name.rsplit(":", 1)[1])
    workers.kill(victim_pid)
    killed_at = utcnow()
    batch.join(BATCH_TIMEOUT_S)

    assert not batch.is_alive(), f"batch not finished: {job_states(session_factory)}\n{workers.output()}"
    assert [p.pid for p in workers.processes if p.poll() is not None] == [victim_pid]
    counts = records_per_submission(session_factory)
    assert len(counts) == 6
    assert set(counts.values()) == {1}
    with session_factory() as session:
        record = session.scalar(select(GradeRecord).where(GradeRecord.job_id == holder.job_id))
    assert record.created_at > killed_at  # graded by the survivor after the redelivery, not by the victim
