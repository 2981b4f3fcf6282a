"""Every handout's public tests pass on the reference solution and fail on the untouched starter."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENTS = ["p1", "p2", "p3", "p4", "p5"]
EVERY_TEST_FAILS_ON_STARTER = {"p1"}  # elsewhere a few public tests check constants the starter already has


def run_public_tests(assignment_id: str, solution_dir: Path) -> subprocess.CompletedProcess:
    public_tests = REPO / "assignments" / assignment_id / "public_tests"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(public_tests)],
        cwd=solution_dir,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
@pytest.mark.slow
def test_public_tests_pass_on_the_reference(assignment_id):
    result = run_public_tests(assignment_id, REPO / "reference_solutions" / assignment_id)
    assert result.returncode == 0, result.stdout[-3000:]
    assert re.search(r"\d+ passed", result.stdout)


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
@pytest.mark.slow
def test_public_tests_fail_on_the_starter(assignment_id):
    result = run_public_tests(assignment_id, REPO / "assignments" / assignment_id / "starter")
    assert result.returncode == 1, result.stdout[-3000:]
    if assignment_id != "p5":  # p5's starter is a repository skeleton, not NotImplementedError stubs
        assert "NotImplementedError" in result.stdout
    if assignment_id in EVERY_TEST_FAILS_ON_STARTER:
        assert " passed" not in result.stdout.strip().splitlines()[-1], "a public test passes on the bare starter"
