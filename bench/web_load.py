"""Load benchmark of the upload path: N concurrent uploads against a real server on loopback, grading running in
the background. Every upload must be acknowledged (202) and stored exactly once; median and p95 acknowledgement
latency are printed and written to the `## Web` section of bench/RESULTS.md.

    python bench/web_load.py [--uploads 50] [--workers 2] [--no-results]
"""

from __future__ import annotations

import argparse
import asyncio
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
from grader.gradebook.repository import Gradebook, RosterEntry  # noqa: E402
from grader.settings import Settings  # noqa: E402

COURSE = REPO / "tests" / "web" / "course"
SOLUTION = (COURSE / "solutions" / "right.py").read_text()
RESULTS = REPO / "bench" / "RESULTS.md"
TARGET_P95_MS = 300.0


def serve(data_dir: Path, port: int, workers: int) -> None:
    """Child process: the app exactly as `grader serve` runs it, on a benchmark data directory."""
    import uvicorn

    from grader.web.app import create_app

    settings = Settings(course_dir=COURSE, data_dir=data_dir, sandbox="local", workers=workers)
    uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning")


def make_students(settings: Settings, count: int) -> list[str]:
    upgrade_to_head(settings.effective_database_url)
    engine = make_engine(settings.effective_database_url)
    with make_session_factory(engine).begin() as session:
        gradebook = Gradebook(session)
        tokens = []
        for n in range(count):
            user, _ = gradebook.add_user(RosterEntry(f"student{n:03d}@example.edu", f"Student {n}", f"s{n:03d}"),
                                         "student")
            tokens.append(gradebook.issue_api_token(user, "bench"))
    engine.dispose()
    return tokens


async def upload(client: httpx.AsyncClient, token: str, n: int, start: asyncio.Event) -> tuple[float, int, int]:
    body = f"{SOLUTION}\n# student {n}\n".encode()  # distinct content: each upload must land in the store once
    await start.wait()
    began = time.perf_counter()
    response = await client.post("/api/assignments/p1/submissions", headers={"Authorization": f"Bearer {token}"},
                                 files={"file": ("solution.py", body, "text/x-python")})
    latency_ms = (time.perf_counter() - began) * 1000
    return latency_ms, response.status_code, response.json().get("id", -1) if response.status_code == 202 else -1


def one_at_a_time(base_url: str, tokens: list[str]) -> list[float]:
    """Service time of a single upload with nothing else in flight (grading of earlier ones may run)."""
    latencies = []
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for n, token in enumerate(tokens):
            began = time.perf_counter()
            response = client.post("/api/assignments/p1/submissions", headers={"Authorization": f"Bearer {token}"},
                                   files={"file": ("solution.py", f"{SOLUTION}\n# solo {n}\n".encode(), "text/x-python")})
            latencies.append((time.perf_counter() - began) * 1000)
            if response.status_code != 202:
                raise SystemExit(f"FAILED: a single upload got {response.status_code}")
    return latencies


async def fire(base_url: str, tokens: list[str]) -> list[tuple[float, int, int]]:
    start = asyncio.Event()
    limits = httpx.Limits(max_connections=len(tokens), max_keepalive_connections=len(tokens))
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
        await client.get("/login")  # warm the server before timing
        tasks = [asyncio.create_task(upload(client, token, n, start)) for n, token in enumerate(tokens)]
        await asyncio.sleep(0.2)
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


def verify(settings: Settings, ids: list[int], uploads: int) -> dict[str, int]:
    engine = sa.create_engine(settings.effective_database_url)
    with engine.connect() as connection:
        submissions = connection.execute(sa.text("SELECT id, user_id, sha256 FROM submissions")).all()
        jobs = connection.execute(sa.text("SELECT count(*) FROM grading_jobs")).scalar_one()
        graded = connection.execute(sa.text("SELECT count(*) FROM grade_records WHERE status = 'graded'")).scalar_one()
    engine.dispose()
    stored = [sha for _, _, sha in submissions if (settings.store_dir / sha[:2] / sha / "tree").is_dir()]
    checks = {
        "acknowledged": len([i for i in ids if i > 0]),
        "distinct_ids": len(set(ids)),
        "submission_rows": len(submissions),
        "students_with_one_row": len({user for _, user, _ in submissions}),
        "distinct_stored": len(set(stored)),
        "job_rows": jobs,
        "graded_so_far": graded,
    }
    failures = [name for name, value in checks.items() if name != "graded_so_far" and value != uploads]
    if failures:
        raise SystemExit(f"FAILED exactly-once checks {failures}: {checks}")
    return checks


def wait_all_graded(settings: Settings, uploads: int, timeout_s: float) -> float:
    engine = sa.create_engine(settings.effective_database_url)
    began = time.monotonic()
    try:
        while time.monotonic() - began < timeout_s:
            with engine.connect() as connection:
                done = connection.execute(sa.text("SELECT count(*) FROM grading_jobs WHERE state = 'done'")).scalar_one()
            if done == uploads:
                return time.monotonic() - began
            time.sleep(0.5)
    finally:
        engine.dispose()
    raise SystemExit(f"grading of {uploads} uploads did not finish in {timeout_s} s")


def write_results(section: str) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(r"^## Web\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="grading workers in the server")
    parser.add_argument("--solo", type=int, default=10, help="uploads sent one at a time after the burst")
    parser.add_argument("--no-results", action="store_true", help="do not touch bench/RESULTS.md")
    parser.add_argument("--serve", nargs=3, metavar=("DATA_DIR", "PORT", "WORKERS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.serve[0]), int(args.serve[1]), int(args.serve[2]))
        return

    with tempfile.TemporaryDirectory(prefix="grader-web-load-") as scratch:
        data_dir = Path(scratch)
        settings = Settings(course_dir=COURSE, data_dir=data_dir, sandbox="local", workers=args.workers)
        tokens = make_students(settings, args.uploads + args.solo)
        port = 18000 + os.getpid() % 1000
        base_url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([sys.executable, __file__, "--serve", str(data_dir), str(port), str(args.workers)],
                                  env={**os.environ, "HF_HUB_OFFLINE": "1"})
        try:
            wait_for_server(base_url, server)
            results = asyncio.run(fire(base_url, tokens[:args.uploads]))
            statuses = sorted({status for _, status, _ in results})
            if statuses != [202]:
                raise SystemExit(f"FAILED: not every upload was acknowledged: statuses {statuses}")
            checks = verify(settings, [i for _, _, i in results], args.uploads)
            grading_s = wait_all_graded(settings, args.uploads, timeout_s=900)
            solo = one_at_a_time(base_url, tokens[args.uploads:])
        finally:
            server.terminate()
            server.wait(timeout=60)

    latencies = [latency for latency, _, _ in results]
    median, p95 = statistics.median(latencies), percentile(latencies, 0.95)
    verdict = "meets" if p95 < TARGET_P95_MS else "MISSES"
    summary = (f"{args.uploads} concurrent uploads: median {median:.0f} ms, p95 {p95:.0f} ms, max {max(latencies):.0f} ms "
               f"({verdict} the p95 < {TARGET_P95_MS:.0f} ms target); all graded {grading_s:.0f} s after the burst")
    solo_median = statistics.median(solo) if solo else float("nan")
    summary += f"; one upload at a time: median {solo_median:.0f} ms over {len(solo)}"
    print(summary)
    print(checks)
    if not args.no_results:
        write_results(
            "## Web\n\n"
            f"`python bench/web_load.py --uploads {args.uploads} --workers {args.workers}` "
            f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores shared with other jobs, "
            f"load average {os.getloadavg()[0]:.1f}): a real server on loopback (uvicorn, SQLite, local sandbox, "
            f"{args.workers} grading workers), each upload from its own student through the JSON API, all released at once.\n\n"
            f"| uploads | acknowledged (202) | stored exactly once | median ack | p95 ack | max ack | target p95 |\n"
            f"| --- | --- | --- | --- | --- | --- | --- |\n"
            f"| {args.uploads} | {checks['acknowledged']} | {checks['distinct_stored']} rows = {checks['submission_rows']} "
            f"| {median:.0f} ms | {p95:.0f} ms | {max(latencies):.0f} ms | < {TARGET_P95_MS:.0f} ms ({verdict}) |\n\n"
            f"Grading ran in the background during the burst ({checks['graded_so_far']} already graded when the last "
            f"upload was acknowledged); all {args.uploads} were graded {grading_s:.0f} s after it.\n\n"
            f"One upload at a time afterwards ({len(solo)} uploads): median {solo_median:.0f} ms. That is the service "
            f"time of one acknowledgement here (multipart parsing, intake into the content-addressed store with fsync, "
            f"the committed submission and job rows); the burst queues {args.uploads} of them on one server process, "
            f"so its latency is about {args.uploads} × that service time divided by the cores the process gets.\n"
        )


if __name__ == "__main__":
    main()
