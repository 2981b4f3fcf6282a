"""Time from a grading worker's death to its job's redelivery (issue #22).

Two real `grader worker --concurrency 1` processes on a private redis-server (appendonly yes) and a fresh PostgreSQL
schema, the fixture course on the local sandbox; `grader batch` sends one submission that sleeps in the sandbox. The
worker holding it is SIGKILLed, and the clock runs until the job has a holder row of the other worker: the
redelivery. Only tables that every version has are read, so `--code` may point at an older checkout (a git worktree)
to measure the visibility-timeout path that came before the heartbeat takeover.

    python bench/worker_failover.py [--code DIR] [--runs 3] [--heartbeat 5] [--visibility-timeout 3600]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
COURSE = REPO / "tests" / "fixtures" / "course"
SLOW = (
    (COURSE / "reference_solutions" / "p1" / "solution.py")
    .read_text()
    .replace("def add", "import time\ntime.sleep(30)\n\n\ndef add", 1)
)
WORKER = "import typer; from grader.entrypoints.worker import worker; typer.run(worker)"
BATCH = "import typer; from grader.entrypoints.batch import batch; typer.run(batch)"
MIGRATE = "import sys; from grader.db.migrations import upgrade_to_head; upgrade_to_head(sys.argv[1])"
POSTGRES = os.environ.get("GRADER_TEST_POSTGRES_URL", "postgresql+psycopg://grader:grader@127.0.0.1:5432/grader_test")
WAIT_S = 7200


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, what: str, timeout_s: float = WAIT_S, every_s: float = 0.05):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every_s)
    raise TimeoutError(what)


def one_run(code: Path, heartbeat_s: float, visibility_timeout_s: int, folder: Path) -> float:
    port, schema = free_port(), f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
    env = {
        **os.environ,
        "PYTHONPATH": str(code),
        "HF_HUB_OFFLINE": "1",
        "GRADER_COURSE_DIR": str(COURSE),
        "GRADER_DATA_DIR": str(folder / "data"),
        "GRADER_SANDBOX": "local",
        "GRADER_QUEUE": "celery",
        "GRADER_BROKER_URL": f"redis://127.0.0.1:{port}/0",
        "GRADER_DATABASE_URL": url,
        "GRADER_HEARTBEAT_S": str(heartbeat_s),
        "GRADER_VISIBILITY_TIMEOUT_S": str(visibility_timeout_s),
    }
    (folder / "redis").mkdir()
    (folder / "cohort").mkdir()
    (folder / "cohort" / "s000.py").write_text(SLOW)
    processes = [
        subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--dir",
                str(folder / "redis"),
                "--appendonly",
                "yes",
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
        )
    ]
    engine = sa.create_engine(url)
    try:
        # migrated once before the workers start, as docs/DEPLOYMENT.md says: two workers migrating at once collide
        subprocess.run([sys.executable, "-c", MIGRATE, url], cwd=code, env=env, check=True)
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", WORKER, "--concurrency", "1"],
                cwd=code,
                env=env,
                stdout=(folder / f"worker-{n}.log").open("w"),
                stderr=subprocess.STDOUT,
            )
            for n in range(2)
        ]
        processes += workers
        beating = "select count(*) from worker_heartbeats"
        wait_for(lambda: _scalar(engine, beating) == 2, "two worker heartbeats", timeout_s=180, every_s=0.5)
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    BATCH,
                    str(folder / "cohort"),
                    "--assignment",
                    "p1",
                    "--out",
                    str(folder / "out"),
                ],
                cwd=code,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        held = (
            "select h.job_id, h.worker_name from job_holders h join grading_jobs j on j.id = h.job_id "
            "where j.state = 'running'"
        )
        job_id, victim = wait_for(lambda: _row(engine, held), "a running job", timeout_s=300)
        os.kill(int(victim.rsplit(":", 1)[1]), signal.SIGKILL)
        killed = time.monotonic()
        taken = f"select count(*) from job_holders where job_id = {int(job_id)} and worker_name <> '{victim}'"
        wait_for(lambda: _scalar(engine, taken), "the job's redelivery to the other worker")
        return time.monotonic() - killed
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.kill()
                process.wait()
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _scalar(engine, query: str):
    with engine.connect() as connection:
        try:
            return connection.execute(sa.text(query)).scalar()
        except sa.exc.ProgrammingError:  # the workers are still migrating
            return None


def _row(engine, query: str):
    with engine.connect() as connection:
        return connection.execute(sa.text(query)).first()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--code", type=Path, default=REPO, help="the checkout whose grader runs (default: this one)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--heartbeat", type=float, default=5.0, help="GRADER_HEARTBEAT_S")
    parser.add_argument("--visibility-timeout", type=int, default=3600, help="GRADER_VISIBILITY_TIMEOUT_S")
    args = parser.parse_args()
    if shutil.which("redis-server") is None:
        sys.exit("redis-server is not installed")
    times = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="bench-failover-") as folder:
            times.append(one_run(args.code.resolve(), args.heartbeat, args.visibility_timeout, Path(folder)))
        print(f"run {run + 1}: redelivered {times[-1]:.1f} s after the kill", flush=True)
    print(
        f"median {statistics.median(times):.1f} s, max {max(times):.1f} s over {len(times)} runs "
        f"(heartbeat {args.heartbeat:g} s, visibility timeout {args.visibility_timeout} s, code {args.code})"
    )


if __name__ == "__main__":
    main()
