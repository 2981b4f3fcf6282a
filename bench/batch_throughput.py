"""Batch throughput: N project-1 submissions (the reference, its mutants, broken variants) graded by `grader batch`'s
service with 1 and then 2 in-process workers, each run on a fresh gradebook.

    python bench/batch_throughput.py [--n 100] [--workers 1,2] [--sandbox local|docker]

Reports submissions per minute, parallel efficiency (throughput at W workers / (W x throughput at 1)), and per
submission the sandbox's time beside the grader's own overhead (job wall time minus the sandboxed run). The machine
load is printed too: on a shared machine it decides most of the result. Copy the figures into bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from grader import course_files
from grader.batch.discover import discover
from grader.batch.service import BatchProgress, plan_batch, wait_for_jobs
from grader.db.base import make_engine, make_session_factory
from grader.db.migrations import upgrade_to_head
from grader.db.models import GradeRecord, GradingJob
from grader.domain.result import GradeResult
from grader.pipeline import grade_by_sha256
from grader.queue.inprocess import InProcessQueue
from grader.references import apply_mutant, load_mutant
from grader.sandbox.base import RunOutcome, RunSpec, SandboxBackend
from grader.sandbox.select import select_backend
from grader.settings import Settings

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "reference_solutions" / "p1"
# runs to the assignment's time limit by design: it would measure the limit, not the grader
SLOW_BY_DESIGN = {"time_budget_ignored"}
BROKEN_VARIANTS = {
    "broken_syntax": "\ndef broken(:\n",
    "broken_import": "\nraise RuntimeError('crashes at import')\n",
}


def build_cohort(folder: Path, count: int) -> list[str]:
    """`count` student folders cycling through reference, mutants and broken variants; returns each one's kind."""
    mutants = sorted(p for p in (REFERENCE / "mutants").glob("*.yaml") if p.stem not in SLOW_BY_DESIGN)
    kinds = ["reference", *BROKEN_VARIANTS, *(p.stem for p in mutants)]
    chosen = []
    for n in range(count):
        kind = kinds[n % len(kinds)]
        student = folder / f"s{n:03d}"
        if kind in BROKEN_VARIANTS or kind == "reference":
            shutil.copytree(REFERENCE, student, ignore=shutil.ignore_patterns("mutants", "__pycache__"))
            with (student / "solution.py").open("a") as handle:
                handle.write(f"\n# student {n}\n{BROKEN_VARIANTS.get(kind, '')}")
        else:
            apply_mutant(REFERENCE, load_mutant(REFERENCE / "mutants" / f"{kind}.yaml"), student, kind)
            with (student / "solution.py").open("a") as handle:
                handle.write(f"\n# student {n}\n")
        chosen.append(kind)
    return chosen


@dataclass
class TimedBackend:
    """The real backend, with each sandboxed run's wall time noted by submission tree."""

    inner: SandboxBackend
    sandbox_s: dict[str, float]

    @property
    def kind(self) -> str:
        return self.inner.kind

    def describe(self, spec: RunSpec | None) -> dict:
        return self.inner.describe(spec)

    def run(self, spec: RunSpec) -> RunOutcome:
        started = time.perf_counter()
        try:
            return self.inner.run(spec)
        finally:
            self.sandbox_s[spec.submission_tree.parent.name] = time.perf_counter() - started


@dataclass(frozen=True)
class RunFigures:
    workers: int
    submissions: int
    wall_s: float
    statuses: dict[str, int]
    sandbox_median_s: float
    overhead_median_s: float
    overhead_max_s: float

    @property
    def per_minute(self) -> float:
        return 60 * self.submissions / self.wall_s


def run_once(settings: Settings, source: Path, workers: int, backend: SandboxBackend) -> RunFigures:
    settings = settings.model_copy(update={"workers": workers, "data_dir": settings.data_dir / f"w{workers}"})
    settings.data_dir.mkdir(parents=True)
    upgrade_to_head(settings.effective_database_url)
    engine = make_engine(settings.effective_database_url)
    session_factory = make_session_factory(engine)
    timed = TimedBackend(backend, {})

    def grade(sha256: str, assignment_id: str, job_settings: Settings) -> GradeResult:
        return grade_by_sha256(sha256, assignment_id, job_settings, backend=timed)

    assignment = course_files.load_assignment(settings, "p1")
    started = time.perf_counter()
    planned = plan_batch(settings, session_factory, assignment, discover(source, source.parent, 10**9), False)
    job_ids = [p.job_id for p in planned if p.job_id is not None]
    last: list[BatchProgress] = []
    wait_for_jobs(InProcessQueue(settings, session_factory, grade), session_factory, job_ids, last.append)
    wall = time.perf_counter() - started
    with session_factory() as session:
        rows = session.execute(
            select(GradingJob, GradeRecord).join(GradeRecord, GradeRecord.job_id == GradingJob.id)
        ).all()
    engine.dispose()
    sandbox = [timed.sandbox_s.get(record.result["submission_sha256"], 0.0) for _, record in rows]
    overhead = [(job.finished_at - job.started_at).total_seconds() - s for (job, _), s in zip(rows, sandbox)]
    statuses: dict[str, int] = {}
    for _, record in rows:
        statuses[record.status] = statuses.get(record.status, 0) + 1
    return RunFigures(
        workers, len(rows), wall, statuses, statistics.median(sandbox), statistics.median(overhead), max(overhead)
    )


def load_sampler(stop: threading.Event, samples: list[float]) -> None:
    while not stop.wait(5):
        samples.append(os.getloadavg()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100, help="submissions per run")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts, one run each")
    parser.add_argument("--sandbox", default=None, help="docker | local (default: GRADER_SANDBOX, else auto)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as scratch_name:
        scratch = Path(scratch_name)
        settings = Settings(course_dir=REPO, data_dir=scratch / "data")
        kinds = build_cohort(scratch / "cohort", args.n)
        backend = select_backend(settings, args.sandbox)
        print(f"{args.n} submissions ({len(set(kinds))} kinds), sandbox {backend.kind}, {os.cpu_count()} cores")
        results = []
        for workers in (int(w) for w in args.workers.split(",")):
            stop, samples = threading.Event(), [os.getloadavg()[0]]
            sampler = threading.Thread(target=load_sampler, args=(stop, samples), daemon=True)
            sampler.start()
            figures = run_once(settings, scratch / "cohort", workers, backend)
            stop.set()
            results.append(figures)
            print(
                f"workers={workers}: {figures.submissions} graded in {figures.wall_s:.1f} s = "
                f"{figures.per_minute:.2f}/min; statuses {figures.statuses}; per submission: sandbox median "
                f"{figures.sandbox_median_s:.2f} s, grader overhead median {figures.overhead_median_s:.3f} s "
                f"(max {figures.overhead_max_s:.3f} s); load average during the run "
                f"{statistics.mean(samples):.1f} (max {max(samples):.1f})",
                flush=True,
            )
        base = results[0]
        for figures in results[1:]:
            efficiency = figures.per_minute / (figures.workers / base.workers * base.per_minute)
            print(f"parallel efficiency at {figures.workers} workers: {100 * efficiency:.0f} %")


if __name__ == "__main__":
    main()
