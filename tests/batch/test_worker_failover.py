"""Operating the scale-out with real workers, Redis and PostgreSQL: a killed worker's job is graded by another within
a few heartbeats (not after the broker's visibility timeout), a Redis restart mid-batch loses nothing, and a batch
with no live worker stops with a clear message and continues when run again."""

from __future__ import annotations

import time

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from grader.db.models import GradeRecord, GradingJob
from grader.entrypoints.batch import batch
from grader.settings import Settings
from tests.batch.conftest import (
    REFERENCE,
    cohort,
    job_states,
    records_per_submission,
    write_submissions,
)
from tests.batch.test_celery_workers import BATCH_TIMEOUT_S, held_job, run_in_background

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

HEARTBEAT_S = 2.0
TAKEOVER_BEATS = 3
SLOW = REFERENCE.replace("def add", "import time\ntime.sleep(12)\n\n\ndef add", 1)
NO_WORKER_S = 3


@pytest.fixture
def failover_env(celery_env, postgres_url) -> dict[str, str]:
    """Two hosts' settings as a deployment has them: PostgreSQL, and the broker's default visibility timeout."""
    env = {**celery_env, "GRADER_DATABASE_URL": postgres_url, "GRADER_HEARTBEAT_S": str(HEARTBEAT_S)}
    del env["GRADER_VISIBILITY_TIMEOUT_S"]
    return env


def job_of(session_factory, job_id: int) -> GradingJob:
    with session_factory() as session:
        return session.get(GradingJob, job_id)


def test_a_killed_workers_job_is_regraded_by_the_other_within_three_heartbeats(
    tmp_path, failover_env, settings_from, gradebook_factory, start_workers
):
    settings = settings_from(failover_env)
    assert settings.visibility_timeout_s == Settings.model_fields["visibility_timeout_s"].default
    session_factory = gradebook_factory(settings)
    workers = start_workers(2, session_factory, failover_env)
    batch_run = run_in_background(settings, session_factory, write_submissions(tmp_path / "one", {"s000": SLOW}))
    deadline = time.monotonic() + BATCH_TIMEOUT_S
    while (holder := held_job(session_factory)) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert holder is not None, workers.output()
    victim = int(holder.worker_name.rsplit(":", 1)[1])
    survivor = next(p.pid for p in workers.processes if p.pid != victim)

    workers.kill(victim)
    killed_at = time.monotonic()
    while job_of(session_factory, holder.job_id).worker_pid != survivor and time.monotonic() < deadline:
        time.sleep(0.1)
    taken_over_s = time.monotonic() - killed_at
    batch_run.join(BATCH_TIMEOUT_S)

    assert taken_over_s <= TAKEOVER_BEATS * HEARTBEAT_S, workers.output()
    assert not batch_run.is_alive(), f"batch not finished: {job_states(session_factory)}\n{workers.output()}"
    assert list(records_per_submission(session_factory).values()) == [1]
    with session_factory() as session:
        record = session.scalar(select(GradeRecord).where(GradeRecord.job_id == holder.job_id))
    assert record.status == "graded"
    assert record.result["sandbox"]["worker"]["pid"] == survivor


def test_a_redis_restart_mid_batch_loses_no_job(
    tmp_path, failover_env, private_redis, settings_from, gradebook_factory, start_workers
):
    env = {**failover_env, "GRADER_BROKER_URL": private_redis.url}
    settings = settings_from(env)
    session_factory = gradebook_factory(settings)
    workers = start_workers(2, session_factory, env)
    batch_run = run_in_background(settings, session_factory, write_submissions(tmp_path / "cohort", cohort(10)))
    deadline = time.monotonic() + BATCH_TIMEOUT_S
    while job_states(session_factory).get("done", 0) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert 2 <= job_states(session_factory).get("done", 0) < 10, workers.output()

    private_redis.stop()
    time.sleep(HEARTBEAT_S)
    private_redis.start()
    batch_run.join(BATCH_TIMEOUT_S)

    assert not batch_run.is_alive(), f"batch not finished: {job_states(session_factory)}\n{workers.output()}"
    counts = records_per_submission(session_factory)
    assert len(counts) == 10
    assert set(counts.values()) == {1}


def test_a_batch_with_no_live_worker_stops_with_a_clear_message_and_continues_when_rerun(
    tmp_path, failover_env, settings_from, gradebook_factory, start_workers, monkeypatch
):
    env = {**failover_env, "GRADER_BATCH_NO_WORKER_S": str(NO_WORKER_S)}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    session_factory = gradebook_factory(settings_from(env))
    source = write_submissions(tmp_path / "cohort", cohort(3))
    app = typer.Typer()
    app.command()(batch)
    arguments = [str(source), "--assignment", "p1", "--out", str(tmp_path / "out")]

    started = time.monotonic()
    stalled = CliRunner().invoke(app, arguments)
    waited_s = time.monotonic() - started

    assert stalled.exit_code == 3, stalled.output
    assert "no grading worker has been alive for" in stalled.output
    assert "Start `grader worker`" in stalled.output and "run this command again" in stalled.output
    assert NO_WORKER_S <= waited_s < NO_WORKER_S + 30
    assert job_states(session_factory) == {"queued": 3}

    start_workers(1, session_factory, env)
    rerun = CliRunner().invoke(app, arguments)

    assert rerun.exit_code == 0, rerun.output
    assert job_states(session_factory) == {"done": 3}
    assert set(records_per_submission(session_factory).values()) == {1}
