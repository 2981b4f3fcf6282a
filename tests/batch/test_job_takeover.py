"""The rules a redelivered job message follows, on a real SQLite gradebook (no broker needed)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from grader.db.base import utcnow
from grader.db.models import GradeRecord, GradingJob
from grader.db.worker_models import JobHolder, WorkerHeartbeat
from grader.domain.result import GradeResult, SandboxInfo
from grader.gradebook.accounts import RosterEntry
from grader.gradebook.repository import Gradebook
from grader.queue.celery_queue import CPU_QUEUE, GPU_QUEUE, Delivery, deliver, queue_for
from grader.queue.identity import WorkerIdentity

THIS_WORKER = WorkerIdentity("grading-host-2", 4242, gpu="NVIDIA H100 80GB HBM3")


@pytest.fixture
def gradebook(fixture_settings, gradebook_factory):
    return gradebook_factory(fixture_settings)


@pytest.fixture
def job_id(gradebook) -> int:
    with gradebook.begin() as session:
        book = Gradebook(session)
        user, _ = book.accounts.add_user(RosterEntry("s1@example.edu", "S One"), "student")
        return book.submissions.record_submission(user.id, "p1", "0" * 64, "py", "solution.py", 10).job_id


def fake_grade(sha256, assignment_id, settings):  # stands in for the sandbox; the real path is in test_celery_workers
    return GradeResult(
        assignment=assignment_id,
        submission_sha256=sha256,
        status="graded",
        score=16.0,
        sandbox=SandboxInfo(kind="docker", isolation="container", image="grader-sandbox:abc", limits={"cpus": 2}),
    )


def held_by(gradebook, job_id: int, worker: str, last_seen_ago_s: float) -> None:
    with gradebook.begin() as session:
        session.get(GradingJob, job_id).state = "running"
        session.get(GradingJob, job_id).started_at = utcnow()
        session.add(
            WorkerHeartbeat(
                name=worker,
                hostname="h",
                queues=CPU_QUEUE,
                gpu=False,
                concurrency=1,
                last_seen_at=utcnow() - timedelta(seconds=last_seen_ago_s),
            )
        )
        session.add(JobHolder(job_id=job_id, worker_name=worker, thread="1"))


def state(gradebook, job_id: int) -> str:
    with gradebook() as session:
        return session.get(GradingJob, job_id).state


def test_the_worker_log_names_the_job_and_the_worker(fixture_settings, gradebook, job_id, caplog):
    caplog.set_level(logging.INFO, logger="grader.queue.celery_queue")
    deliver(job_id, fixture_settings, gradebook, fake_grade, THIS_WORKER)
    assert f"job {job_id} graded by worker grading-host-2:4242" in caplog.messages


def test_a_queued_job_is_graded_and_its_holder_row_removed(fixture_settings, gradebook, job_id):
    assert deliver(job_id, fixture_settings, gradebook, fake_grade, THIS_WORKER) is Delivery.GRADED
    assert state(gradebook, job_id) == "done"
    with gradebook() as session:
        assert session.scalars(select(JobHolder)).all() == []


def test_a_done_job_is_not_graded_again(fixture_settings, gradebook, job_id):
    deliver(job_id, fixture_settings, gradebook, fake_grade, THIS_WORKER)
    assert deliver(job_id, fixture_settings, gradebook, fake_grade, THIS_WORKER) is Delivery.SKIPPED


def test_a_job_held_by_a_live_worker_is_left_to_it(fixture_settings, gradebook, job_id):
    held_by(gradebook, job_id, "other-host:1", last_seen_ago_s=0)
    assert deliver(job_id, fixture_settings, gradebook, fake_grade, THIS_WORKER) is Delivery.HELD
    assert state(gradebook, job_id) == "running"


def test_a_job_held_by_a_silent_worker_is_taken_over_and_graded(fixture_settings, gradebook, job_id):
    held_by(gradebook, job_id, "other-host:1", last_seen_ago_s=4 * fixture_settings.heartbeat_s)
    assert deliver(job_id, fixture_settings, gradebook, fake_grade, THIS_WORKER) is Delivery.GRADED
    with gradebook() as session:
        assert [r.job_id for r in session.scalars(select(GradeRecord))] == [job_id]
    assert state(gradebook, job_id) == "done"


def test_worker_names_are_unique_per_process():
    assert WorkerIdentity.of_this_process().name.rsplit(":", 1)[1].isdigit()


def test_the_grading_worker_is_recorded_on_the_job_and_in_the_result(fixture_settings, gradebook, job_id):
    deliver(job_id, fixture_settings, gradebook, fake_grade, THIS_WORKER)
    with gradebook() as session:
        job = session.get(GradingJob, job_id)
        record = session.scalar(select(GradeRecord))
        assert (job.worker_host, job.worker_pid, job.worker_gpu, job.sandbox_image) == (
            "grading-host-2",
            4242,
            "NVIDIA H100 80GB HBM3",
            "grader-sandbox:abc",
        )
        assert record.result["sandbox"]["worker"] == {
            "host": "grading-host-2",
            "pid": 4242,
            "gpu": "NVIDIA H100 80GB HBM3",
        }


@pytest.mark.parametrize(
    ("policy", "gpu_worker", "queue"),
    [
        ("none", True, CPU_QUEUE),
        ("optional", False, CPU_QUEUE),
        ("optional", True, GPU_QUEUE),
        ("required", False, GPU_QUEUE),
        ("required", True, GPU_QUEUE),
    ],
)
def test_gpu_assignments_go_to_gpu_workers(policy, gpu_worker, queue):
    assert queue_for(policy, gpu_worker) == queue
