"""Plagiarism detector speed on a synthetic cohort, against copydetect's CopyDetector and dolos-lib in the same run.

    python bench/plagiarism_speed.py [--submissions 1000] [--skip-baselines] [--copydetect-subsets 125 250] [--dolos-limit 600]

Each synthetic submission (~200 lines) joins three dev-set solutions of different tasks (independent solutions and
rewrites), identifiers renamed with a per-student seed, functions reordered, one tuning constant changed; one in ten is
a renamed copy of another. Timed, in this order: the real `grader plagiarism` command in a fresh process with an empty
data folder (cold: imports, model load, embedding, JSON + HTML report), dolos-lib and copydetect's CopyDetector.run()
over the same files (copydetect optionally on two subsets, extrapolated: it compares every pair in Python; dolos-lib
stopped at a time limit, which then is a lower bound), then the command again after five new submissions arrive (warm:
everything unchanged comes from the caches). CPU seconds include child processes (the detector's workers, node). The cold run's JSON is also checked
for the cohort's renamed whole copies: at this size pairs come from the FAISS candidates, and a copy missed there is
never scored.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "plagiarism"))

from build_devset import rename_identifiers  # noqa: E402

DEVSET = HERE / "plagiarism" / "devset"


def _pool() -> dict[str, list[str]]:
    return {
        task.name: [
            path.read_text() for path in sorted(task.glob("independent/*.py")) + sorted(task.glob("rewrites/*.py"))
        ]
        for task in sorted(DEVSET.iterdir())
        if task.is_dir()
    }


def synthetic_cohort(folder: Path, count: int, seed: int = 7) -> list[tuple[str, str]]:
    """Writes the cohort; returns its renamed whole copies as (source file, copy file)."""
    rng = random.Random(seed)
    pool = _pool()
    tasks = sorted(pool)
    written: list[str] = []
    copies: list[tuple[str, str]] = []
    for index in range(count):
        if written and rng.random() < 0.1:
            source = rng.randrange(len(written))  # the same draw as rng.choice(written)
            copies.append((f"student{source:04d}.py", f"student{index:04d}.py"))
            code = rename_identifiers(written[source], set(), rng.randrange(10**6))
        else:
            parts = [
                rename_identifiers(rng.choice(pool[task]), {"main"}, rng.randrange(10**6))
                for task in rng.sample(tasks, 3)
            ]
            rng.shuffle(parts)
            code = "\n\n".join(parts).replace("50", str(rng.randrange(20, 90)), 1)
        written.append(code)
        (folder / f"student{index:04d}.py").write_text(code)
    return copies


def copies_flagged(pairs_json: Path, copies: list[tuple[str, str]]) -> int:
    """How many of the known whole copies the run flagged: in FAISS mode a copy is only scored if it became a candidate."""
    record = json.loads(pairs_json.read_text())
    scores = {frozenset((pair["a"], pair["b"])): pair["score"] for pair in record["pairs"]}
    return sum(scores.get(frozenset(copy), 0.0) >= record["flag_threshold"] for copy in copies)


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measured(action: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds (this process and its finished children) of action."""
    started, cpu_started = time.perf_counter(), _cpu_seconds()
    action()
    return time.perf_counter() - started, _cpu_seconds() - cpu_started


def run_detector(folder: Path, data: Path, out: Path) -> tuple[float, float, dict]:
    """`grader plagiarism` in a fresh interpreter, as an instructor runs it; returns wall, CPU and the run's stats."""
    command = [
        sys.executable,
        "-c",
        "from grader.entrypoints.cli import main; main()",
        "plagiarism",
        str(folder),
        "--json",
        str(out / "pairs.json"),
        "--report",
        str(out / "report.html"),
    ]
    environment = {
        **os.environ,
        "GRADER_DATA_DIR": str(data),
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")]),
    }
    wall, cpu = measured(lambda: subprocess.run(command, env=environment, check=True, capture_output=True, cwd=data))
    return wall, cpu, json.loads((out / "pairs.json").read_text())["stats"]


def run_copydetect(folder: Path) -> None:
    from copydetect import CopyDetector

    CopyDetector(test_dirs=[str(folder)], extensions=["py"], silent=True, autoopen=False).run()


def copydetect_estimate(folder: Path, root: Path, sizes: tuple[int, int]) -> dict[str, float]:
    """copydetect measured on the first files of the cohort at two sizes, and its time for all of them extrapolated.

    Its cost is per-file work (pygments, winnowing) plus every pair compared: a·n + b·n², fitted through the two
    measurements. Used when the full run would take too long (it did not finish in 20 min for 1,000 files).
    """
    files = sorted(folder.glob("*.py"))
    measured_at: dict[int, float] = {}
    for size in sizes:
        subset = root / f"copydetect_{size}"
        subset.mkdir()
        for path in files[:size]:
            (subset / path.name).write_text(path.read_text())
        measured_at[size], _ = measured(lambda: run_copydetect(subset))
    (small, large), n = sizes, len(files)
    quadratic = (measured_at[large] / large - measured_at[small] / small) / (large - small)
    linear = measured_at[small] / small - quadratic * small
    return {
        **{f"copydetect_{size}_files_s": round(seconds, 1) for size, seconds in measured_at.items()},
        "copydetect_extrapolated_s": round(linear * n + quadratic * n * n, 1),
    }


def run_dolos(folder: Path, limit: float) -> bool:
    """dolos-lib over the folder's files; False when it was stopped at the limit (seconds) without a result."""
    files = sorted(str(path) for path in folder.glob("*.py"))
    try:
        subprocess.run(
            ["node", str(HERE / "plagiarism" / "node" / "dolos_pairs.mjs"), *files],
            check=True,
            capture_output=True,
            cwd=HERE / "plagiarism" / "node",
            timeout=limit,
        )
    except subprocess.TimeoutExpired:
        return False
    return True


def _load() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def sgemm_gflops() -> float:
    """The machine's float32 matrix-product speed (numpy, every core), best of three: most of a cold run is the
    embedding model's matrix products, and this shared machine's speed varies from day to day (~20 %)."""
    import numpy as np

    rng = np.random.default_rng(0)
    tokens, weights = rng.random((2048, 384), np.float32), rng.random((384, 1536), np.float32)
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(20):
            tokens @ weights
        best = min(best, time.perf_counter() - started)
    return round(20 * 2 * 2048 * 384 * 1536 / best / 1e9, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submissions", type=int, default=1000)
    parser.add_argument("--skip-baselines", action="store_true")
    parser.add_argument(
        "--copydetect-subsets",
        type=int,
        nargs=2,
        metavar=("SMALL", "LARGE"),
        help="time copydetect on this many files (two sizes) and extrapolate, instead of the full run",
    )
    parser.add_argument(
        "--dolos-limit",
        type=float,
        default=600.0,
        help="seconds after which dolos-lib is stopped and its time reported as a lower bound",
    )
    args = parser.parse_args()
    result: dict[str, object] = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "sgemm_gflops": sgemm_gflops(),
        "load_average_before": _load(),
    }
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        folder, data, out, late = root / "cohort", root / "data", root / "out", root / "late"
        for path in (folder, data, out, late):
            path.mkdir()
        copies = synthetic_cohort(folder, args.submissions)
        result["submissions"] = args.submissions
        result["mean_lines"] = round(
            sum(path.read_text().count("\n") for path in folder.glob("*.py")) / args.submissions
        )
        cold, cold_cpu, result["cold"] = run_detector(folder, data, out)
        result.update(
            detector_cold_s=round(cold, 1), detector_cold_cpu_s=round(cold_cpu, 1), load_average_after_cold=_load()
        )
        result["renamed_copies_flagged"] = f"{copies_flagged(out / 'pairs.json', copies)} of {len(copies)}"
        print(json.dumps(result), file=sys.stderr, flush=True)  # partial figures survive an interrupted baseline
        if not args.skip_baselines:
            finished: list[bool] = []
            dolos_wall, dolos_cpu = measured(lambda: finished.append(run_dolos(folder, args.dolos_limit)))
            if finished[0]:
                result.update(
                    dolos_lib_s=round(dolos_wall, 1),
                    dolos_lib_cpu_s=round(dolos_cpu, 1),
                    dolos_over_detector=round(dolos_wall / cold, 2),
                )
            else:  # a lower bound (the CPU of a killed child is not counted)
                result.update(
                    dolos_lib_stopped_after_s=round(dolos_wall, 1),
                    dolos_over_detector_at_least=round(dolos_wall / cold, 2),
                )
            print(json.dumps(result), file=sys.stderr, flush=True)
            if args.copydetect_subsets:
                result.update(copydetect_estimate(folder, root, tuple(args.copydetect_subsets)))
                result["copydetect_extrapolated_over_detector"] = round(result["copydetect_extrapolated_s"] / cold, 2)
            else:
                copydetect_wall, copydetect_cpu = measured(lambda: run_copydetect(folder))
                result.update(
                    copydetect_s=round(copydetect_wall, 1),
                    copydetect_cpu_s=round(copydetect_cpu, 1),
                    copydetect_over_detector=round(copydetect_wall / cold, 2),
                )
            result["load_average_after_baselines"] = _load()
        synthetic_cohort(late, 5, seed=99)
        for path in sorted(late.glob("*.py")):
            path.rename(folder / f"late_{path.name}")
        warm, warm_cpu, result["warm"] = run_detector(folder, data, out)
        result.update(
            detector_warm_after_5_new_s=round(warm, 1),
            detector_warm_cpu_s=round(warm_cpu, 1),
            load_average_after=_load(),
        )
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
