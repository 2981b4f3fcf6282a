"""What the driver/student split costs: the time to grade each project's reference solution end to end in the Docker
sandbox, on the code of this checkout. Run it on two checkouts (before and after a change) on the same machine, close
together in time, and compare the medians.

    python bench/driver_overhead.py [--projects p1 p2 p3 p4] [--repeats 3]
    PYTHONPATH=/path/to/other/checkout python /path/to/other/checkout/bench/driver_overhead.py ...

Needs a Docker engine and the sandbox image (`grader sandbox build`). Prints one line per project.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import grader
from grader.pipeline import Grader
from grader.sandbox.select import select_backend
from grader.settings import Settings

REPO = Path(grader.__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", nargs="+", default=["p1", "p2", "p3", "p4"])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="bench-driver-") as scratch:
        settings = Settings(course_dir=REPO, data_dir=Path(scratch), sandbox="docker")
        grading = Grader(settings, select_backend(settings, "docker"))
        print(f"code at {commit} ({REPO}), {args.repeats} gradings per project, Docker sandbox")
        for project in args.projects:
            durations, scores = [], []
            for _ in range(args.repeats):
                started = time.perf_counter()
                result = grading.grade_path(REPO / "reference_solutions" / project, project).result
                durations.append(time.perf_counter() - started)
                scores.append(result.score)
            print(
                f"{project}: median {statistics.median(durations):.1f} s (min {min(durations):.1f}, "
                f"max {max(durations):.1f}); scores {scores}"
            )


if __name__ == "__main__":
    main()
