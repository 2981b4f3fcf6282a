"""The device decision on the real Docker sandbox of this host: the probe gets the device and the time budgets the
grader chose, and the outcome says why. (On a host without a GPU: cpu, the CPU budgets, and that reason.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.domain.assignment import Limits
from grader.judge import ProbeData
from grader.sandbox.base import RunSpec

pytestmark = pytest.mark.docker

PROBE = """
import grader_probe as gp
solution = gp.load_solution()
with gp.step("device") as s:
    s.emit("device", gp.device())
    s.emit("training_s", gp.budget("training"))
    s.emit("student_sees", solution.device())
gp.done()
"""

STUDENT = """
import os

def device():
    return os.environ.get("GRADER_DEVICE")
"""


def test_the_probe_gets_the_device_and_budgets_the_grader_chose(docker_backend, tmp_path: Path) -> None:
    (tmp_path / "probe").mkdir()
    (tmp_path / "probe" / "probe.py").write_text(PROBE)
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "solution.py").write_text(STUDENT)
    limits = Limits(time_s=60, budgets_s={"training": 40}, gpu={"budgets_s": {"training": 60}})
    spec = RunSpec(
        submission_tree=tmp_path / "submission",
        entry="solution.py",
        entry_kind="module",
        probe_dir=tmp_path / "probe",
        limits=limits,
        seed=1,
        gpu="optional",
    )
    choice = docker_backend.device_choice("optional")
    outcome = docker_backend.run(spec)
    assert outcome.status == "completed", outcome.stderr
    values = ProbeData.from_files(outcome.files).steps["device"].values
    expected_budget = 60.0 if choice.device == "cuda" else 40.0
    assert values == {"device": choice.device, "training_s": expected_budget, "student_sees": choice.device}
    assert outcome.gpu.device == choice.device and outcome.gpu.reason == choice.reason != ""
