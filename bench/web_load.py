"""Load benchmark of the upload path: N concurrent uploads against a real server on loopback, grading running in
the background. Every upload must be acknowledged (202) and stored exactly once (its bytes committed to the gradebook
with its row, or written to the store); median and p95 acknowledgement latency are printed and written to the
`## Web upload burst` section of bench/RESULTS.md.

    python bench/web_load.py [--uploads 50] [--workers 2] [--processes N] [--no-results]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from grader.db.base import make_engine, make_session_factory  # noqa: E402
from grader.db.migrations import upgrade_to_head  # noqa: E402
from grader.gradebook.accounts import RosterEntry  # noqa: E402
from grader.gradebook.repository import Gradebook  # noqa: E402
from grader.settings import Settings  # noqa: E402

COURSE = REPO / "tests" / "web" / "course"
SOLUTION = (COURSE / "solutions" / "right.py").read_text()
RESULTS = REPO / "bench" / "RESULTS.md"
TARGET_P95_MS = 300.0


def make_students(settings: Settings, count: int) -> list[str]:
    upgrade_to_head(settings.effective_database_url)
    engine = make_engine(settings.effective_database_url)
    with make_session_factory(engine).begin() as session:
        gradebook = Gradebook(session)
        tokens = []
        for n in range(count):
            entry = RosterEntry(f"student{n:03d}@example.edu", f"Student {n}", f"s{n:03d}")
            user, _ = gradebook.accounts.add_user(entry, "student")
            tokens.append(gradebook.accounts.issue_api_token(user, "bench"))
    engine.dispose()
    return tokens


def upload_request(port: int, token: str, body: bytes) -> bytes:
    """The whole HTTP/1.1 request, encoded before the clock starts: the timing is the server's, not the client's."""
    boundary = "grader-web-load-boundary"
    payload = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="solution.py"\r\n'
            f"Content-Type: text/x-python\r\n\r\n"
        ).encode()
        + body
        + f"\r\n--{boundary}--\r\n".encode()
    )
    head = (
        f"POST /api/assignments/p1/submissions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + payload


async def upload(port: int, request: bytes, start: asyncio.Event) -> tuple[float, int, int]:
    """Connect first, send when every connection is open, time until the whole response is in."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await start.wait()
    began = time.perf_counter()
    writer.write(request)
    await writer.drain()
    response = await asyncio.wait_for(reader.read(), 120)  # Connection: close: the server ends the stream
    latency_ms = (time.perf_counter() - began) * 1000
    writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return latency_ms, status, json.loads(body).get("id", -1) if status == 202 else -1


def one_at_a_time(base_url: str, tokens: list[str]) -> list[float]:
    """Service time of a single upload with nothing else in flight (grading of earlier ones may run)."""
    latencies = []
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for n, token in enumerate(tokens):
            began = time.perf_counter()
            response = client.post(
                "/api/assignments/p1/submissions",
                headers={"Authorization": f"Bearer {token}"},
                files={"file": ("solution.py", f"{SOLUTION}\n# solo {n}\n".encode(), "text/x-python")},
            )
            latencies.append((time.perf_counter() - began) * 1000)
            if response.status_code != 202:
                raise SystemExit(f"FAILED: a single upload got {response.status_code}")
    return latencies


async def fire(port: int, tokens: list[str]) -> list[tuple[float, int, int]]:
    """Release one upload per student at once, over connections opened beforehand (as a load generator like wrk
    does): a Python HTTP client building fifty multipart requests would spend more time than the server."""
    requests = [
        upload_request(port, token, f"{SOLUTION}\n# student {n}\n".encode())  # distinct: stored once each
        for n, token in enumerate(tokens)
    ]
    start = asyncio.Event()
    tasks = [asyncio.create_task(upload(port, request, start)) for request in requests]
    await asyncio.sleep(0.5)
    start.set()
    return await asyncio.gather(*tasks)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def wait_for_server(base_url: str, process: subprocess.Popen, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("server exited during startup")
        try:
            if httpx.get(f"{base_url}/login", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError("server did not start")


def wait_for_listeners(port: int, count: int, timeout_s: float = 120) -> None:
    """Until every web process listens. The first answer comes from whichever started first, and a burst sent before
    the others listen all lands on that one (each binds its own SO_REUSEPORT socket, and listens once it has started)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
        listening = [row for row in rows if row.split()[1].endswith(f":{port:04X}") and row.split()[3] == "0A"]
        if len(listening) >= count:
            return
        time.sleep(0.2)
    raise RuntimeError(f"only some of the {count} web processes listen on port {port}")


def verify(settings: Settings, ids: list[int], uploads: int, earlier: int) -> dict[str, int]:
    """Exactly once: each acknowledged burst upload has one submission row, one job row and one stored tree, and
    nothing else was written beyond the `earlier` uploads of the backlog."""
    engine = sa.create_engine(settings.effective_database_url)
    with engine.connect() as connection:
        submissions = connection.execute(sa.text("SELECT id, user_id, sha256 FROM submissions")).all()
        job_submissions = connection.execute(sa.text("SELECT submission_id FROM grading_jobs")).scalars().all()
        graded = connection.execute(sa.text("SELECT count(*) FROM grade_records WHERE status = 'graded'")).scalar_one()
        kept = {
            sha
            for sha, content in connection.execute(sa.text("SELECT sha256, content FROM upload_contents"))
            if hashlib.sha256(content).hexdigest() == sha
        }
    engine.dispose()
    burst = [row for row in submissions if row.id in set(ids)]
    # Durable either way: its bytes committed with its row (the grading process stores them later), or in the store.
    stored = [sha for _, _, sha in burst if sha in kept or (settings.store_dir / sha[:2] / sha / "tree").is_dir()]
    checks = {
        "acknowledged": len([i for i in ids if i > 0]),
        "distinct_ids": len(set(ids)),
        "submission_rows": len(burst),
        "students_with_one_row": len({user for _, user, _ in burst}),
        "distinct_stored": len(set(stored)),
        "job_rows": len([i for i in job_submissions if i in set(ids)]),
        "rows_beyond_backlog": len(submissions) - earlier,
        "graded_so_far": graded,
    }
    failures = [name for name, value in checks.items() if name != "graded_so_far" and value != uploads]
    if failures:
        raise SystemExit(f"FAILED exactly-once checks {failures}: {checks}")
    return checks


def wait_until_grading(settings: Settings, timeout_s: float = 60) -> int:
    """Returns once the backlog is being graded: the number of jobs running when the burst starts."""
    engine = sa.create_engine(settings.effective_database_url)
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                running = connection.execute(
                    sa.text("SELECT count(*) FROM grading_jobs WHERE state = 'running'")
                ).scalar_one()
            if running:
                return running
            time.sleep(0.05)
    finally:
        engine.dispose()
    raise SystemExit("the backlog was never picked up for grading")


def wait_all_graded(settings: Settings, uploads: int, timeout_s: float) -> float:
    engine = sa.create_engine(settings.effective_database_url)
    began = time.monotonic()
    try:
        while time.monotonic() - began < timeout_s:
            with engine.connect() as connection:
                done = connection.execute(
                    sa.text("SELECT count(*) FROM grading_jobs WHERE state = 'done'")
                ).scalar_one()
            if done == uploads:
                return time.monotonic() - began
            time.sleep(0.5)
    finally:
        engine.dispose()
    raise SystemExit(f"grading of {uploads} uploads did not finish in {timeout_s} s")


def write_results(section: str) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(r"^## Web upload burst\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="grading workers in the server")
    parser.add_argument("--solo", type=int, default=10, help="uploads sent one at a time after the burst")
    parser.add_argument("--no-results", action="store_true", help="do not touch bench/RESULTS.md")
    parser.add_argument("--processes", type=int, default=0, help="web server processes (default: one per core)")
    parser.add_argument("--backlog", type=int, default=10, help="uploads sent before the burst, graded during it")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="grader-web-load-") as scratch:
        data_dir = Path(scratch)
        settings = Settings(course_dir=COURSE, data_dir=data_dir, sandbox="local", workers=args.workers)
        tokens = make_students(settings, args.uploads + args.solo + args.backlog)
        port = 18000 + os.getpid() % 1000
        base_url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(  # the real `grader serve`, configured as an instructor would, through GRADER_*
            [
                str(Path(sys.executable).with_name("grader")),
                "serve",
                "--port",
                str(port),
                "--processes",
                str(args.processes),
            ],
            env={
                **os.environ,
                "HF_HUB_OFFLINE": "1",
                "GRADER_COURSE_DIR": str(COURSE),
                "GRADER_DATA_DIR": str(data_dir),
                "GRADER_SANDBOX": "local",
                "GRADER_WORKERS": str(args.workers),
            },
        )
        try:
            wait_for_server(base_url, server)
            wait_for_listeners(port, args.processes or os.cpu_count())
            one_at_a_time(base_url, tokens[args.uploads + args.solo :])  # a backlog: grading is busy during the burst
            if args.backlog:
                wait_until_grading(settings)
            results = asyncio.run(fire(port, tokens[: args.uploads]))
            statuses = sorted({status for _, status, _ in results})
            if statuses != [202]:
                raise SystemExit(f"FAILED: not every upload was acknowledged: statuses {statuses}")
            checks = verify(settings, [i for _, _, i in results], args.uploads, args.backlog)
            grading_s = wait_all_graded(settings, args.uploads + args.backlog, timeout_s=900)
            solo = one_at_a_time(base_url, tokens[args.uploads : args.uploads + args.solo])
        finally:
            server.terminate()
            server.wait(timeout=60)

    latencies = [latency for latency, _, _ in results]
    median, p95 = statistics.median(latencies), percentile(latencies, 0.95)
    verdict = "meets" if p95 < TARGET_P95_MS else "MISSES"
    summary = (
        f"{args.uploads} concurrent uploads: median {median:.0f} ms, p95 {p95:.0f} ms, max {max(latencies):.0f} ms "
        f"({verdict} the p95 < {TARGET_P95_MS:.0f} ms target); all graded {grading_s:.0f} s after the burst"
    )
    solo_median = statistics.median(solo) if solo else float("nan")
    summary += f"; one upload at a time: median {solo_median:.0f} ms over {len(solo)}"
    print(summary)
    print(checks)
    if not args.no_results:
        processes = args.processes or os.cpu_count()
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO
        ).stdout.strip()
        lost = checks["acknowledged"] - checks["distinct_stored"]
        met = "met" if p95 < TARGET_P95_MS and lost == 0 else "no"
        write_results(
            "## Web upload burst\n\n"
            "| command | commit | machine | figure | target | met? |\n| --- | --- | --- | --- | --- | --- |\n"
            f"| `python bench/web_load.py --uploads {args.uploads} --workers {args.workers} --backlog {args.backlog}` | {commit} "
            f"| {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} at the end | p95 {p95:.0f} ms (median {median:.0f} ms); "
            f"{checks['acknowledged']} of {args.uploads} acknowledged, {checks['distinct_stored']} stored exactly once; "
            f"one upload at a time: median {solo_median:.0f} ms | p95 < {TARGET_P95_MS:.0f} ms, none lost | {met} |\n\n"
            f"{args.uploads} uploads from {args.uploads} students through the JSON API at once, {args.backlog} more being "
            f"graded meanwhile; the real `grader serve` ({processes} web processes, SQLite, one grading process with "
            f"{args.workers} workers on the local sandbox).\n\n"
        )


if __name__ == "__main__":
    main()
