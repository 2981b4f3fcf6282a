"""Batch and Celery tests run on the fixture course with the local sandbox, so each grading takes a few seconds."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from grader.db.base import make_engine, make_session_factory
from grader.db.models import GradeRecord, GradingJob, Submission
from grader.db.worker_models import WorkerHeartbeat
from grader.settings import Settings
from tests.conftest import FIXTURE_COURSE, REPO
from tests.services import fresh_postgres_schema, missing, require_redis, tcp_open

REFERENCE = (FIXTURE_COURSE / "reference_solutions" / "p1" / "solution.py").read_text()
WRONG_ADD = REFERENCE.replace("return a + b", "return a - b")
BROKEN = "def add(a, b:\n"
REDIS_OWNER_KEY = "grader-test-run"  # marks a Redis database as taken by one test run
WORKER_START_S = 120
REDIS_START_S = 30
WORKER_COMMAND = "import typer; from grader.entrypoints.worker import worker; typer.run(worker)"


def write_submissions(folder: Path, sources: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for student, source in sources.items():
        (folder / f"{student}.py").write_text(source)
    return folder


def cohort(count: int, prefix: str = "") -> dict[str, str]:
    """`count` distinct submissions, a mix of right, wrong and broken ones."""
    variants = [REFERENCE, WRONG_ADD, BROKEN]
    return {f"s{n:03d}": f"{prefix}# student {n}\n{variants[n % len(variants)]}" for n in range(count)}


@pytest.fixture
def batch_env(tmp_path: Path) -> dict[str, str]:
    """The environment `grader` commands read their Settings from, over the fixture course and the local sandbox."""
    return {
        "GRADER_COURSE_DIR": str(FIXTURE_COURSE),
        "GRADER_DATA_DIR": str(tmp_path / "data"),
        "GRADER_SANDBOX": "local",
        "HF_HUB_OFFLINE": "1",
    }


@pytest.fixture
def settings_from(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, str]], Settings]:
    def build(env: dict[str, str]) -> Settings:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        return Settings()

    return build


@pytest.fixture
def gradebook_factory(migrate_gradebook: Callable[[str], None]) -> Callable[[Settings], sessionmaker]:
    engines = []

    def build(settings: Settings) -> sessionmaker:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        migrate_gradebook(settings.effective_database_url)
        engines.append(make_engine(settings.effective_database_url))
        return make_session_factory(engines[-1])

    yield build
    for engine in engines:
        engine.dispose()


def records_per_submission(session_factory: sessionmaker) -> dict[int, int]:
    with session_factory() as session:
        counts = dict(
            session.execute(
                select(Submission.id, func.count(GradeRecord.id))
                .join(GradeRecord, GradeRecord.submission_id == Submission.id, isouter=True)
                .group_by(Submission.id)
            ).all()
        )
    return counts


def job_states(session_factory: sessionmaker) -> dict[str, int]:
    with session_factory() as session:
        return dict(session.execute(select(GradingJob.state, func.count()).group_by(GradingJob.state)).all())


@dataclass
class Workers:
    processes: list[subprocess.Popen]
    logs: list[Path]

    def kill(self, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)

    def output(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in self.logs)


@pytest.fixture(scope="session")
def redis_test_url() -> Iterator[str]:
    """A Redis database this test run has to itself (1 to 15; 0 is the default broker's): two runs on one machine,
    CI beside a developer's, would otherwise share a queue and empty it under each other."""
    import redis

    require_redis()
    for number in range(1, 16):
        url = f"redis://127.0.0.1:6379/{number}"
        client = redis.Redis.from_url(url)
        if client.set(REDIS_OWNER_KEY, os.getpid(), nx=True, ex=6 * 3600):  # expires if this run is killed
            try:
                yield url
            finally:
                client.delete(REDIS_OWNER_KEY)
            return
    raise AssertionError(
        "Redis databases 1-15 are all taken by other test runs (key grader-test-run); wait for them "
        "or delete that key where the run has ended"
    )


@pytest.fixture
def celery_env(batch_env: dict[str, str], redis_test_url: str) -> dict[str, str]:
    import redis

    client = redis.Redis.from_url(redis_test_url)
    for key in client.scan_iter():  # what an earlier test left queued, but not this run's claim on the database
        if key != REDIS_OWNER_KEY.encode():
            client.delete(key)
    return {
        **batch_env,
        "GRADER_QUEUE": "celery",
        "GRADER_BROKER_URL": redis_test_url,
        "GRADER_VISIBILITY_TIMEOUT_S": "10",
        "GRADER_HEARTBEAT_S": "1",
    }


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL gradebook of its own (a fresh schema), as the workers of a deployment share one."""
    with fresh_postgres_schema() as url:
        yield url


@dataclass
class PrivateRedis:
    """A redis-server of one test, with the persistence docs/DEPLOYMENT.md prescribes (`appendonly yes`)."""

    port: int
    folder: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = (self.folder / "redis.log").open("a")
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.folder),
                "--appendonly",
                "yes",
                "--save",
                "",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + REDIS_START_S
        while not tcp_open("127.0.0.1", self.port):
            assert time.monotonic() < deadline and self.process.poll() is None, (self.folder / "redis.log").read_text()
            time.sleep(0.1)

    def stop(self) -> None:
        """A clean shutdown (SIGTERM), as `systemctl restart redis` does: the append-only file is flushed."""
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        missing("redis-server", "the redis-server binary is not installed")
    with socket.socket() as probe:  # a free port; the shared redis on 6379 is never restarted by a test
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tmp_path / "redis"
    folder.mkdir()
    server = PrivateRedis(port, folder)
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()


@pytest.fixture
def start_workers(tmp_path: Path, celery_env: dict[str, str]) -> Iterator[Callable[..., Workers]]:
    """`grader worker --concurrency 1` processes on loopback; waits until each has sent its first heartbeat.
    `env` overrides the Celery environment (another broker, database or heartbeat)."""
    started: list[subprocess.Popen] = []

    def start(count: int, session_factory: sessionmaker, env: dict[str, str] | None = None) -> Workers:
        logs = [tmp_path / f"worker-{len(started) + n}.log" for n in range(count)]
        for log in logs:
            with log.open("w") as handle:
                started.append(
                    subprocess.Popen(
                        [sys.executable, "-c", WORKER_COMMAND, "--concurrency", "1"],
                        cwd=REPO,
                        env={**os.environ, **(env or celery_env)},
                        stdout=handle,
                        stderr=subprocess.STDOUT,
                    )
                )
        deadline = time.monotonic() + WORKER_START_S
        while time.monotonic() < deadline:
            with session_factory() as session:
                if session.scalar(select(func.count()).select_from(WorkerHeartbeat)) >= count:
                    return Workers(started[-count:], logs)
            time.sleep(0.5)
        raise AssertionError("workers did not start:\n" + Workers(started, logs).output())

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
    for process in started:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
