"""Worker liveness on a real SQLite gradebook (no broker): a dead worker's job is released and sent again at once,
long-dead workers are forgotten, and a batch sees how many workers are alive."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
import yaml
from sqlalchemy import select

from grader.db.base import utcnow
from grader.db.models import GradingJob
from grader.db.worker_models import JobHolder, WorkerHeartbeat
from grader.gradebook.accounts import RosterEntry
from grader.gradebook.repository import Gradebook
from grader.queue.celery_queue import CPU_QUEUE
from grader.queue.celery_worker import default_slots
from grader.queue.heartbeat import Heartbeat, grading_capacity, release_orphan, worker_statuses
from grader.queue.identity import WorkerIdentity
from grader.settings import Settings
from tests.batch.test_job_takeover import held_by
from tests.conftest import FIXTURE_COURSE


@pytest.fixture
def gradebook(fixture_settings, gradebook_factory):
    return gradebook_factory(fixture_settings)


@pytest.fixture
def job_ids(gradebook) -> list[int]:
    with gradebook.begin() as session:
        book = Gradebook(session)
        user, _ = book.accounts.add_user(RosterEntry("s1@example.edu", "S One"), "student")
        return [
            book.submissions.record_submission(user.id, "p1", f"{n}" * 64, "py", "solution.py", 10).job_id
            for n in range(3)
        ]


@pytest.fixture
def sent() -> list[int]:
    return []


@pytest.fixture
def heartbeat(fixture_settings, gradebook, sent) -> Heartbeat:
    beating = Heartbeat(fixture_settings, gradebook, WorkerIdentity("survivor", 1), [CPU_QUEUE], 1, sent.append)
    beating.beat()
    return beating


def dead_for(settings: Settings) -> float:
    return 3 * settings.heartbeat_s


def holders(gradebook) -> list[tuple[int, str]]:
    with gradebook() as session:
        return [(h.job_id, h.worker_name) for h in session.scalars(select(JobHolder))]


def test_a_running_job_of_a_dead_worker_is_requeued_and_sent_again_once(
    fixture_settings, gradebook, job_ids, heartbeat, sent
):
    held_by(gradebook, job_ids[0], "dead-host:9", last_seen_ago_s=dead_for(fixture_settings))

    heartbeat.reap()
    heartbeat.reap()  # the next look finds nothing left to release

    assert sent == [job_ids[0]]
    with gradebook() as session:
        job = session.get(GradingJob, job_ids[0])
        assert (job.state, job.started_at) == ("queued", None)
    assert holders(gradebook) == []


def test_a_job_whose_worker_still_beats_is_left_to_it(fixture_settings, gradebook, job_ids, heartbeat, sent):
    held_by(gradebook, job_ids[0], "busy-host:3", last_seen_ago_s=0)

    heartbeat.reap()

    assert sent == []
    assert holders(gradebook) == [(job_ids[0], "busy-host:3")]


def test_a_job_taken_but_not_yet_claimed_by_a_dead_worker_is_sent_again(
    fixture_settings, gradebook, job_ids, heartbeat, sent
):
    with gradebook.begin() as session:  # the worker died between registering as holder and claiming the job
        session.add(JobHolder(job_id=job_ids[1], worker_name="gone:5", thread="1"))

    heartbeat.reap()

    assert sent == [job_ids[1]]
    assert holders(gradebook) == []


def test_two_workers_looking_at_once_release_an_orphan_once(fixture_settings, gradebook, job_ids, heartbeat, sent):
    held_by(gradebook, job_ids[0], "dead-host:9", last_seen_ago_s=dead_for(fixture_settings))
    other = Heartbeat(fixture_settings, gradebook, WorkerIdentity("other", 2), [CPU_QUEUE], 1, sent.append)

    heartbeat.reap()
    other.reap()

    assert sent == [job_ids[0]]


def test_workers_silent_past_the_forget_age_are_pruned(fixture_settings, gradebook, heartbeat):
    settings = fixture_settings.model_copy(update={"worker_forget_after_s": 3600})
    with gradebook.begin() as session:
        for name, ago in [("restarted:1", timedelta(hours=2)), ("crashed:2", timedelta(minutes=10))]:
            session.add(
                WorkerHeartbeat(
                    name=name, hostname="h", queues=CPU_QUEUE, gpu=False, concurrency=1, last_seen_at=utcnow() - ago
                )
            )
    Heartbeat(settings, gradebook, WorkerIdentity("survivor", 1), [CPU_QUEUE], 1, list.append).beat()

    statuses = {status.name: status.alive for status in worker_statuses(gradebook, settings)}
    assert statuses == {"survivor:1": True, "crashed:2": False}
    with gradebook() as session:
        assert session.get(WorkerHeartbeat, "restarted:1") is None


def test_a_batch_sees_live_workers_and_its_jobs_waiting_for_a_dead_one(fixture_settings, gradebook, job_ids, heartbeat):
    held_by(gradebook, job_ids[2], "dead-host:9", last_seen_ago_s=dead_for(fixture_settings))

    capacity = grading_capacity(gradebook, fixture_settings, job_ids)

    assert (capacity.live_workers, capacity.waiting_for_dead_holder) == (1, 1)
    assert grading_capacity(gradebook, fixture_settings, job_ids[:2]).waiting_for_dead_holder == 0


@pytest.mark.parametrize(("cpus", "cores", "slots"), [(1, 16, 16), (2, 16, 8), (4, 16, 4), (3, 16, 5), (4, 2, 1)])
def test_default_worker_slots_give_each_sandbox_its_cpu_limit(tmp_path, cpus, cores, slots):
    course = shutil.copytree(FIXTURE_COURSE, tmp_path / "course")
    for assignment in (course / "assignments").glob("*/assignment.yaml"):
        spec = yaml.safe_load(assignment.read_text())
        spec["limits"]["cpus"] = cpus if assignment.parent.name == "p1" else 1
        assignment.write_text(yaml.safe_dump(spec))

    assert default_slots(Settings(course_dir=course, data_dir=tmp_path / "data"), cores) == slots


def test_releasing_a_queued_job_keeps_the_row_of_a_worker_taking_it_meanwhile(
    fixture_settings, gradebook, job_ids, heartbeat
):
    with gradebook.begin() as session:
        session.add(JobHolder(job_id=job_ids[1], worker_name="gone:5", thread="1"))
        session.add(JobHolder(job_id=job_ids[1], worker_name="survivor:1", thread="2"))  # beats: see `heartbeat`
    with gradebook.begin() as session:
        assert release_orphan(session, fixture_settings, session.get(GradingJob, job_ids[1]))

    assert holders(gradebook) == [(job_ids[1], "survivor:1")]
