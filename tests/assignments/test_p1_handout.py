"""p1's handout: the public tests pass on the reference and fail on the starter; the handout never carries hidden
inputs, expected values or thresholds."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENT = REPO / "assignments" / "p1"
REFERENCE = REPO / "reference_solutions" / "p1"
PUBLIC_TEST_COUNT = 8


def run_public_tests(solution_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(ASSIGNMENT / "public_tests")],
        cwd=solution_dir, env={**os.environ, "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True, timeout=900)


def test_public_tests_pass_on_the_reference():
    result = run_public_tests(REFERENCE)
    assert result.returncode == 0, result.stdout[-3000:]
    assert f"{PUBLIC_TEST_COUNT} passed" in result.stdout


def test_every_public_test_fails_on_the_starter():
    result = run_public_tests(ASSIGNMENT / "starter")
    assert result.returncode == 1, result.stdout[-3000:]
    assert f"{PUBLIC_TEST_COUNT} failed" in result.stdout
    assert "NotImplementedError" in result.stdout


def test_handout_never_mentions_hidden_files_or_the_loss_threshold():
    judge = (ASSIGNMENT / "hidden_tests" / "judge" / "judge.py").read_text(encoding="utf-8")
    threshold = re.search(r"^HELDOUT_LOSS_MAX = ([0-9.]+)", judge, flags=re.MULTILINE).group(1)
    visible = [ASSIGNMENT / "README.md", *sorted((ASSIGNMENT / "starter").rglob("*.py")),
               *sorted((ASSIGNMENT / "public_tests").rglob("*.py"))]
    text = "\n".join(path.read_text(encoding="utf-8") for path in visible)
    assert threshold not in text
    for hidden_name in ("heldout.txt", "messy_unique.txt", "unseen.txt", "expected.json", "Proverbs", "Ecclesiastes",
                        "Song of Solomon", "Ruth"):
        assert hidden_name not in text
