"""Project 5 probe, run for real on tiny repositories through the sandbox's runner (runner → trusted driver → the
student's commands): it time-boxes the entry command (whole process group and session), keeps the grader's variables
from the student's processes, records a missing entry command as nothing run, and names the test counts as the
repository's own report. In Docker, the student's commands run as the student's uid and a daemon that left its
session is killed too."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
import yaml

from grader.domain.assignment import Limits
from grader.sandbox.base import RunSpec
from grader.sandbox.local_backend import LocalBackend

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENT = REPO / "assignments" / "p5"
PROBE = ASSIGNMENT / "hidden_tests" / "probe"
PASSING_TEST = "def test_truth():\n    assert True\n"


def make_repository(root: Path, entry_section: str, conftest: str | None = None) -> Path:
    repository = root / "repository"
    (repository / "tests").mkdir(parents=True)
    (repository / "tests" / "test_truth.py").write_text(PASSING_TEST)
    if conftest is not None:
        (repository / "conftest.py").write_text(conftest)
    (repository / "README.md").write_text(f"# tiny\n\n## Task\n\nNothing.\n\n{entry_section}\n")
    return repository


def run_probe(root: Path, repository: Path, backend=None, **limits) -> dict[str, dict]:
    """The probe with `limits` over limits.json, run by `backend` (default: the local sandbox without bubblewrap, so
    files the student's commands write under `root` stay visible to the test); returns the step records."""
    probe = root / "probe"
    shutil.copytree(PROBE, probe)
    settings = json.loads((probe / "data" / "limits.json").read_text())
    (probe / "data" / "limits.json").write_text(json.dumps({**settings, **limits}))
    assignment = yaml.safe_load((ASSIGNMENT / "assignment.yaml").read_text())
    spec = RunSpec(
        submission_tree=repository,
        entry=assignment["entry"],
        entry_kind="module",
        probe_dir=probe,
        limits=Limits(**assignment["limits"]),
        seed=1234,
    )
    outcome = (backend or LocalBackend(use_bwrap=False)).run(spec)
    assert outcome.status == "completed", (outcome.status, outcome.stderr[-2000:])
    return {
        name[:-5]: json.loads(content)
        for name, content in outcome.files.items()
        if name.endswith(".json") and not name.startswith("_")
    }


@pytest.mark.slow
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


@pytest.mark.slow
def test_a_background_child_is_killed_when_the_entry_command_ends_in_time(tmp_path):
    marker = tmp_path / "still-running"
    repository = make_repository(
        tmp_path, f"## Entry command\n\n```bash\n(sleep 3; touch {marker}) >/dev/null 2>&1 &\necho done\n```"
    )
    run = run_probe(tmp_path, repository)["entry"]["values"]["run"]
    assert run["exit_code"] == 0 and not run["timed_out"] and run["output_tail"].strip() == "done"
    time.sleep(4)
    assert not marker.exists(), "a background child of the entry command outlived it"


def test_student_processes_do_not_see_the_graders_variables(tmp_path):
    repository = make_repository(tmp_path, "## Entry command\n\n```bash\nenv | grep -c '^GRADER_' || true\n```")
    run = run_probe(tmp_path, repository)["entry"]["values"]["run"]
    assert run["exit_code"] == 0 and run["output_tail"].strip() == "0"


def test_tests_are_run_and_counted_and_a_missing_entry_command_runs_nothing(tmp_path):
    steps = run_probe(tmp_path, make_repository(tmp_path, "## Usage\n\nRun it."))
    assert steps["tests"]["values"]["counts_reported_by_pytest"] == {
        "tests": 1,
        "failures": 0,
        "errors": 0,
        "skipped": 0,
    }
    assert steps["tests"]["values"]["run"]["exit_code"] == 0
    assert steps["entry"]["values"] == {"command": None, "run": None}
    assert steps["repository"]["values"]["test_files"] == ["tests/test_truth.py"]


def test_the_tests_and_the_entry_command_each_get_a_fresh_copy(tmp_path):
    """What the tests delete does not change what the entry command finds; the submission itself stays as it was."""
    repository = make_repository(
        tmp_path,
        "## Entry command\n\n```bash\ncat tests/test_truth.py | wc -l\n```",
        conftest="import shutil\nshutil.rmtree('tests', ignore_errors=True)\n",
    )
    steps = run_probe(tmp_path, repository)
    assert steps["entry"]["values"]["run"]["output_tail"].strip() == "2"
    assert (repository / "tests" / "test_truth.py").read_text() == PASSING_TEST


def test_a_junit_report_is_not_followed_through_a_link(tmp_path):
    """The report is the student's; the driver reads it as data, and never through a symbolic link."""
    elsewhere = tmp_path / "elsewhere.xml"
    elsewhere.write_text('<testsuite tests="99" failures="0" errors="0" skipped="0"/>')
    conftest = (
        "import os\n"
        "def pytest_unconfigure(config):\n"
        "    path = config.option.xmlpath\n"
        f"    os.remove(path); os.symlink({str(elsewhere)!r}, path)\n"
    )
    steps = run_probe(tmp_path, make_repository(tmp_path, "## Usage\n\nRun it.", conftest=conftest))
    assert steps["tests"]["ok"] and steps["tests"]["values"]["run"]["exit_code"] == 0
    assert steps["tests"]["values"]["counts_reported_by_pytest"] is None


def test_docker_runs_the_commands_as_the_student_and_kills_escaped_daemons(tmp_path, docker_backend):
    """One container: the tests and the entry command run as uid 65534 and cannot read the hidden probe folder, and a
    daemon the tests started in a session of its own is gone before the entry command runs."""
    entry = (
        "```bash\nid -u\ncat /probe/data/limits.json >/dev/null 2>&1 && echo probe-readable || echo probe-hidden\n"
        "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' ' | grep -o 'slee[p] 300' | wc -l\n```"
    )
    repository = make_repository(tmp_path, f"## Entry command\n\n{entry}")
    (repository / "tests" / "test_identity.py").write_text(
        "import os, subprocess\n\n"
        "def test_identity_and_a_daemon():\n"
        "    assert os.getuid() == 65534\n"
        "    subprocess.Popen(['sleep', '300'], start_new_session=True, stdout=subprocess.DEVNULL,\n"
        "                     stderr=subprocess.DEVNULL)\n"
    )
    for path in [repository, *repository.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    steps = run_probe(tmp_path, repository, backend=docker_backend)
    tests, entry_run = steps["tests"]["values"], steps["entry"]["values"]["run"]
    assert tests["run"]["exit_code"] == 0, tests["run"]["output_tail"]
    assert tests["counts_reported_by_pytest"]["tests"] == 2
    assert entry_run["exit_code"] == 0, entry_run["output_tail"]
    assert entry_run["output_tail"].split() == ["65534", "probe-hidden", "0"], entry_run["output_tail"]
