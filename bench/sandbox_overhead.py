"""Grader overhead: median time to grade a trivial submission end to end, versus a bare `docker run` of the same
command in the same image (same runner, same mounts, no grader around it). Target: ratio <= 1.5.

    python bench/sandbox_overhead.py [--runs 20]

Needs a Docker engine and the sandbox image (`grader sandbox build`). Prints the figures; copy them into
bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from grader.pipeline import Grader
from grader.sandbox.base import RUNTIME_DIR
from grader.sandbox.docker_backend import DRIVER_CAPABILITIES, STUDENT_UID
from grader.sandbox.select import select_backend
from grader.settings import Settings

REPO = Path(__file__).resolve().parent.parent
COURSE = REPO / "tests" / "fixtures" / "course"
TRIVIAL = "def run():\n    return 42\n"


def bare_docker_run(image: str, scratch: Path) -> float:
    """The same runner command in the same image, started by the docker CLI with the same mounts and limits."""
    started = time.perf_counter()
    subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "--network",
            "none",
            "--read-only",
            "--user",
            "0:0",
            "--cap-drop",
            "ALL",
            *[f"--cap-add={capability}" for capability in DRIVER_CAPABILITIES],
            "--security-opt",
            "no-new-privileges",
            "--memory",
            "256m",
            "--pids-limit",
            "64",
            "--tmpfs",
            "/work:size=16m,mode=1777",
            "--tmpfs",
            "/tmp:size=16m,mode=1777",
            "-v",
            f"{scratch / 'submission'}:/submission:ro",
            "-v",
            f"{scratch / 'probe'}:/probe:ro",
            "-v",
            f"{scratch / 'runtime'}:/grader:ro",
            "-v",
            f"{scratch / 'result'}:/result",
            "-w",
            "/",
            image,
            "python3",
            "-I",
            "/grader/runner.py",
            "--student-uid",
            str(STUDENT_UID),
            "--submission",
            "/submission",
            "--probe",
            "/probe",
            "--result",
            "/result",
            "--workdir",
            "/work",
            "--tmpdir",
            "/tmp",
            "--entry",
            "solution.py",
            "--device",
            "cpu",
            "--kind",
            "module",
            "--time-limit",
            "6",
            "--threads",
            "1",
        ],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as scratch_name:
        scratch = Path(scratch_name)
        settings = Settings(course_dir=COURSE, data_dir=scratch / "data", sandbox="docker", sandbox_image=None)
        grader = Grader(settings, select_backend(settings, "docker"))
        image = grader.backend.image
        submission = scratch / "solution.py"
        submission.write_text(TRIVIAL)
        (scratch / "submission").mkdir()
        shutil.copy(submission, scratch / "submission" / "solution.py")
        shutil.copytree(COURSE / "assignments" / "p2" / "hidden_tests" / "probe", scratch / "probe")
        shutil.copytree(RUNTIME_DIR, scratch / "runtime", ignore=shutil.ignore_patterns("__pycache__"))
        (scratch / "result").mkdir()
        for path in [scratch, *scratch.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        bare_docker_run(image, scratch)  # warm the page cache for both
        grader.grade_path(submission, "p2")
        graded, bare = [], []
        for _ in range(args.runs):  # interleaved, so drift in machine load hits both alike
            started = time.perf_counter()
            result = grader.grade_path(submission, "p2").result
            graded.append(time.perf_counter() - started)
            assert result.score == 20, result.message
            bare.append(bare_docker_run(image, scratch))
    ratio = statistics.median(graded) / statistics.median(bare)
    print(f"runs: {args.runs} each, image {image}")
    print(f"grader end to end: median {statistics.median(graded):.3f} s (min {min(graded):.3f}, max {max(graded):.3f})")
    print(f"bare docker run:   median {statistics.median(bare):.3f} s (min {min(bare):.3f}, max {max(bare):.3f})")
    print(f"ratio: {ratio:.2f}x (target <= 1.5x) -> {'met' if ratio <= 1.5 else 'NOT met'}")


if __name__ == "__main__":
    main()
