"""Plagiarism detector speed on a synthetic cohort, against copydetect's CopyDetector and dolos-lib in the same run.

    python bench/plagiarism_speed.py [--submissions 1000] [--skip-baselines]

Each synthetic submission (~200 lines) joins three dev-set solutions of different tasks (independent solutions and
rewrites), identifiers renamed with a per-student seed, functions reordered, one tuning constant changed; one in ten is
a renamed copy of another. Timed: cold run (empty embedding cache) end to end from the folder to JSON + HTML; warm
re-run after five new submissions arrive (unchanged submissions' embeddings come from the cache); the baselines.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "plagiarism"))

from build_devset import rename_identifiers  # noqa: E402

from grader.plagiarism.calibration import load_calibration  # noqa: E402
from grader.plagiarism.detector import detect  # noqa: E402
from grader.plagiarism.embeddings import EmbeddingCache, SentenceEncoder  # noqa: E402
from grader.plagiarism.report import render_html, write_json  # noqa: E402
from grader.plagiarism.submissions import load_folder  # noqa: E402

DEVSET = HERE / "plagiarism" / "devset"


def _pool() -> dict[str, list[str]]:
    return {task.name: [path.read_text() for path in sorted(task.glob("independent/*.py")) + sorted(task.glob("rewrites/*.py"))] for task in sorted(DEVSET.iterdir()) if task.is_dir()}


def synthetic_cohort(folder: Path, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    pool = _pool()
    tasks = sorted(pool)
    written: list[str] = []
    for index in range(count):
        if written and rng.random() < 0.1:
            code = rename_identifiers(rng.choice(written), set(), rng.randrange(10**6))
        else:
            parts = [rename_identifiers(rng.choice(pool[task]), {"main"}, rng.randrange(10**6)) for task in rng.sample(tasks, 3)]
            rng.shuffle(parts)
            code = "\n\n".join(parts).replace("50", str(rng.randrange(20, 90)), 1)
        written.append(code)
        (folder / f"student{index:04d}.py").write_text(code)


def run_detector(folder: Path, cache_dir: Path, out: Path) -> tuple[float, float, dict]:
    started, cpu_started = time.perf_counter(), time.process_time()
    cohort, skipped = load_folder(folder)
    encoder = SentenceEncoder("all-MiniLM-L6-v2")
    detection = detect(cohort, [], [], skipped, encoder, EmbeddingCache(cache_dir, encoder.name), load_calibration())
    write_json(detection, out / "pairs.json")
    render_html(detection, out / "report.html", title="speed")
    return time.perf_counter() - started, time.process_time() - cpu_started, detection.stats


def run_copydetect(folder: Path) -> tuple[float, float]:
    from copydetect import CopyDetector

    started, cpu_started = time.perf_counter(), time.process_time()
    detector = CopyDetector(test_dirs=[str(folder)], extensions=["py"], silent=True, autoopen=False)
    detector.run()
    return time.perf_counter() - started, time.process_time() - cpu_started


def run_dolos(folder: Path) -> tuple[float, float]:
    started, children = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    files = sorted(str(path) for path in folder.glob("*.py"))
    subprocess.run(["node", str(HERE / "plagiarism" / "node" / "dolos_pairs.mjs"), *files], check=True, capture_output=True, cwd=HERE / "plagiarism" / "node")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter() - started, (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submissions", type=int, default=1000)
    parser.add_argument("--skip-baselines", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        folder, cache, out = root / "cohort", root / "cache", root / "out"
        for path in (folder, cache, out):
            path.mkdir()
        synthetic_cohort(folder, args.submissions)
        lines = sum(path.read_text().count("\n") for path in folder.glob("*.py")) / args.submissions
        cold, cold_cpu, stats = run_detector(folder, cache, out)
        (root / "late").mkdir()
        synthetic_cohort(root / "late", 5, seed=99)
        for path in sorted((root / "late").glob("*.py")):
            path.rename(folder / f"late_{path.name}")
        warm, warm_cpu, warm_stats = run_detector(folder, cache, out)
        result = {
            "submissions": args.submissions,
            "mean_lines": round(lines),
            "detector_cold_s": round(cold, 1),
            "detector_cold_cpu_s": round(cold_cpu, 1),  # all threads; wall time on a shared machine overstates the work
            "detector_warm_after_5_new_s": round(warm, 1),
            "detector_warm_cpu_s": round(warm_cpu, 1),
            "cold": stats,
            "warm": warm_stats,
        }
        if not args.skip_baselines:
            copydetect_wall, copydetect_cpu = run_copydetect(folder)
            dolos_wall, dolos_cpu = run_dolos(folder)
            result.update(copydetect_s=round(copydetect_wall, 1), copydetect_cpu_s=round(copydetect_cpu, 1), dolos_lib_s=round(dolos_wall, 1), dolos_lib_cpu_s=round(dolos_cpu, 1))
            result["copydetect_over_detector"] = round(copydetect_wall / cold, 2)
            result["dolos_over_detector"] = round(dolos_wall / cold, 2)
        print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
