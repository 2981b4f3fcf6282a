"""Project 5 probe, run for real on tiny repositories: it time-boxes the entry command (whole process group),
keeps the grader's variables from the student's processes, and records a missing entry command as nothing run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path


REPO = Path(__file__).resolve().parents[2]
PROBE = REPO / "assignments" / "p5" / "hidden_tests" / "probe"
RUNTIME = REPO / "grader" / "sandbox" / "runtime"
PASSING_TEST = "def test_truth():\n    assert True\n"


def make_repository(root: Path, entry_section: str) -> Path:
    repository = root / "repository"
    (repository / "tests").mkdir(parents=True)
    (repository / "tests" / "test_truth.py").write_text(PASSING_TEST)
    (repository / "README.md").write_text(f"# tiny\n\n## Task\n\nNothing.\n\n{entry_section}\n")
    return repository


def run_probe(root: Path, repository: Path, **limits) -> dict[str, dict]:
    probe = root / "probe"
    shutil.copytree(PROBE, probe)
    settings = json.loads((probe / "data" / "limits.json").read_text())
    (probe / "data" / "limits.json").write_text(json.dumps({**settings, **limits}))
    out, work = root / "out", root / "work"
    out.mkdir()
    work.mkdir()
    environment = {"PATH": os.environ["PATH"], "HOME": str(work), "GRADER_SUBMISSION": str(repository),
                   "GRADER_PROBE": str(probe), "GRADER_OUT": str(out), "GRADER_SECRET_CANARY": "canary-value"}
    launcher = f"import sys, runpy; sys.path.insert(0, {str(RUNTIME)!r}); runpy.run_path({str(probe / 'probe.py')!r}, run_name='__main__')"
    subprocess.run([sys.executable, "-I", "-c", launcher], cwd=work, env=environment, timeout=180, check=True)
    return {path.stem: json.loads(path.read_text()) for path in out.glob("*.json")}


def test_entry_command_past_its_limit_is_killed_with_its_children(tmp_path):
    marker = tmp_path / "still-running"
    repository = make_repository(tmp_path, f"## Entry command\n\n```bash\n(sleep 4; touch {marker}) &\nsleep 60\n```")
    started = time.monotonic()
    steps = run_probe(tmp_path, repository, entry_timeout_s=1)
    run = steps["entry"]["values"]["run"]
    assert run["timed_out"] and run["duration_s"] < 10
    assert time.monotonic() - started < 60
    time.sleep(5)
    assert not marker.exists(), "a child of the entry command outlived the time box"


def test_student_processes_do_not_see_the_graders_variables(tmp_path):
    repository = make_repository(tmp_path, "## Entry command\n\n```bash\nenv | grep -c canary-value || true\n```")
    run = run_probe(tmp_path, repository)["entry"]["values"]["run"]
    assert run["exit_code"] == 0 and run["output_tail"].strip() == "0"


def test_tests_are_run_and_counted_and_a_missing_entry_command_runs_nothing(tmp_path):
    steps = run_probe(tmp_path, make_repository(tmp_path, "## Usage\n\nRun it."))
    assert steps["tests"]["values"]["counts"] == {"tests": 1, "failures": 0, "errors": 0, "skipped": 0}
    assert steps["tests"]["values"]["run"]["exit_code"] == 0
    assert steps["entry"]["values"] == {"command": None, "run": None}
    assert steps["repository"]["values"]["test_files"] == ["tests/test_truth.py"]
