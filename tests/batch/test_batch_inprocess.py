"""`grader batch` on the embedded in-process queue: results into the gradebook, results.csv, summary.html, resume."""

from __future__ import annotations

import csv
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

from grader.db.models import GradeRecord
from grader.entrypoints.batch import batch
from tests.batch.conftest import BROKEN, REFERENCE, WRONG_ADD, records_per_submission, write_submissions
from tests.conftest import REPO

BATCH_COMMAND = "import typer; from grader.entrypoints.batch import batch; typer.run(batch)"
INTERRUPT_TIMEOUT_S = 180


@pytest.fixture
def run_cli(batch_env, monkeypatch):
    app = typer.Typer()
    app.command()(batch)
    for key, value in batch_env.items():
        monkeypatch.setenv(key, value)

    def run(*args: str):
        result = CliRunner().invoke(app, list(args))
        assert result.exit_code == 0, result.output
        return result

    return run


@pytest.fixture
def gradebook(batch_env, settings_from, gradebook_factory):
    return gradebook_factory(settings_from(batch_env))


@pytest.fixture
def cohort_folder(tmp_path: Path) -> Path:
    folder = write_submissions(tmp_path / "cohort", {"alice": REFERENCE, "bob": WRONG_ADD, "carol": BROKEN})
    (folder / "dave").mkdir()
    (folder / "dave" / "solution.py").write_text(REFERENCE)
    (folder / "erin.zip").write_bytes(b"not a zip")
    return folder


def record_count(session_factory) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count(GradeRecord.id)))


@pytest.mark.slow
def test_batch_writes_one_row_per_student_with_a_column_per_criterion(run_cli, cohort_folder, tmp_path):
    run_cli(str(cohort_folder), "--assignment", "p1", "--workers", "2", "--out", str(tmp_path / "out"))

    with (tmp_path / "out" / "results.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == [
        "student",
        "sha256",
        "status",
        "score",
        "addition",
        "average",
        "defense",
        "worker",
        "sandbox_image",
        "gpu",
    ]
    by_student = {row["student"]: row for row in rows}
    # graded by this process's own threads, on the local sandbox (no image), without a GPU
    assert (by_student["alice"]["worker"], by_student["alice"]["sandbox_image"], by_student["alice"]["gpu"]) == (
        f"{socket.gethostname()}:{os.getpid()}",
        "",
        "",
    )
    assert by_student["erin"]["worker"] == ""
    assert sorted(by_student) == ["alice", "bob", "carol", "dave", "erin"]
    assert (by_student["alice"]["status"], by_student["alice"]["score"], by_student["alice"]["addition"]) == (
        "graded",
        "16",
        "10",
    )
    assert (by_student["bob"]["score"], by_student["bob"]["addition"], by_student["bob"]["average"]) == ("6", "0", "6")
    assert by_student["carol"]["status"] == "error"
    assert by_student["dave"]["score"] == "16"
    assert (by_student["erin"]["status"], by_student["erin"]["sha256"]) == ("rejected", "")
    assert len(by_student["alice"]["sha256"]) == 64


def test_summary_is_one_self_contained_page_with_inline_plots(run_cli, cohort_folder, tmp_path):
    run_cli(str(cohort_folder), "--assignment", "p1", "--out", str(tmp_path / "out"))

    page = (tmp_path / "out" / "summary.html").read_text()
    assert page.count("<svg") == 2  # score histogram, per-criterion pass rates
    assert "Slowest submissions" in page and "alice" in page
    assert re.findall(r'(?:src|href)="(?!#)', page) == []  # only references inside the page, nothing fetched
    assert "<?xml" not in page


@pytest.mark.slow
def test_rerun_grades_nothing_already_graded_unless_regrade(run_cli, cohort_folder, tmp_path, gradebook):
    run_cli(str(cohort_folder), "--assignment", "p1", "--out", str(tmp_path / "out"))
    first = record_count(gradebook)

    rerun = run_cli(str(cohort_folder), "--assignment", "p1", "--out", str(tmp_path / "out"))
    assert record_count(gradebook) == first == 4
    assert "4 already graded at this version" in rerun.output

    (cohort_folder / "bob.py").write_text(REFERENCE.replace("# ", "# fixed "))  # bob resubmits: a new sha256
    run_cli(str(cohort_folder), "--assignment", "p1", "--out", str(tmp_path / "out"))
    assert record_count(gradebook) == 5

    run_cli(str(cohort_folder), "--assignment", "p1", "--out", str(tmp_path / "out"), "--regrade")
    assert record_count(gradebook) == 9
    assert set(records_per_submission(gradebook).values()) == {1, 2}


@pytest.mark.slow
def test_an_interrupted_batch_resumes_and_grades_each_submission_once(batch_env, tmp_path, gradebook):
    slow = REFERENCE.replace("def add", "import time\ntime.sleep(2)\n\n\ndef add", 1)
    source = write_submissions(tmp_path / "slow", {f"s{n}": f"# {n}\n{slow}" for n in range(6)})
    command = [
        sys.executable,
        "-c",
        BATCH_COMMAND,
        str(source),
        "--assignment",
        "p1",
        "--workers",
        "1",
        "--out",
        str(tmp_path / "out"),
    ]
    first = subprocess.Popen(
        command, cwd=REPO, env={**os.environ, **batch_env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + INTERRUPT_TIMEOUT_S
    while record_count(gradebook) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)
    first.wait()
    graded_before = record_count(gradebook)
    assert 2 <= graded_before < 6

    subprocess.run(
        command, cwd=REPO, env={**os.environ, **batch_env}, check=True, capture_output=True, timeout=INTERRUPT_TIMEOUT_S
    )

    assert list(records_per_submission(gradebook).values()) == [1] * 6
    with (tmp_path / "out" / "results.csv").open() as handle:
        assert [row["status"] for row in csv.DictReader(handle)] == ["graded"] * 6
