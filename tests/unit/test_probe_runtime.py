"""The probe runtime (inside the sandbox) lets only plain data out, and reports crashes by the student's own lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from grader.sandbox.runtime import grader_probe as gp


class AlwaysEqual:
    def __eq__(self, other):
        return True


class SneakyStr(str):
    def __eq__(self, other):
        return True


@pytest.mark.parametrize("value", [AlwaysEqual(), SneakyStr("x"), [1, AlwaysEqual()], {"k": SneakyStr("v")}, {1: 2}])
def test_objects_that_are_not_plain_data_are_refused(value):
    with pytest.raises(TypeError):
        gp.to_plain(value, "answer")


def test_plain_values_and_numpy_scalars_pass():
    assert gp.to_plain({"a": [1, 2.5, None, True, "s"], "b": np.float32(0.5)}, "v") == \
        {"a": [1, 2.5, None, True, "s"], "b": 0.5}


def test_arrays_must_be_numeric():
    with pytest.raises(TypeError, match="numeric array"):
        gp.to_array(np.array(["a"], dtype=object), "x")
    assert gp.to_array([[1, 2]], "x").shape == (1, 2)


def test_step_records_failure_and_probe_continues(tmp_path, monkeypatch):
    monkeypatch.setattr(gp, "OUT_DIR", tmp_path)
    with gp.step("first") as s:
        s.emit("v", 1)
        raise SystemExit(0)  # a student's exit inside a step must not end the probe
    with gp.step("second") as s:
        s.emit("v", 2)
    first = json.loads((tmp_path / "first.json").read_text())
    second = json.loads((tmp_path / "second.json").read_text())
    assert not first["ok"] and "exit(0)" in first["error"]["message"] and first["values"] == {}
    assert second["ok"] and second["values"] == {"v": 2}


def test_step_timeout_interrupts_a_hung_step(tmp_path, monkeypatch):
    monkeypatch.setattr(gp, "OUT_DIR", tmp_path)
    with gp.step("slow", timeout_s=0.2):
        while True:
            pass
    record = json.loads((tmp_path / "slow.json").read_text())
    assert record["error"]["type"] == "StepTimeout"


def test_error_frames_keep_only_student_files(tmp_path, monkeypatch):
    monkeypatch.setattr(gp, "SUBMISSION_DIR", tmp_path)
    student = tmp_path / "solution.py"
    student.write_text("def f():\n    raise ValueError('bad')\n")
    namespace: dict = {}
    exec(compile(student.read_text(), str(student), "exec"), namespace)
    try:
        namespace["f"]()
    except ValueError as error:
        described = gp.describe_error(error)
    assert described["frames"] == [{"file": "solution.py", "line": 2, "function": "f"}]


@pytest.mark.skipif(not os.path.exists("/proc/self/autogroup"), reason="kernel without autogroup scheduling")
def test_a_run_in_a_session_of_its_own_keeps_the_lower_priority_it_was_started_with():
    """Under autogroup scheduling a new session competes at nice 0 whatever its own nice value; the runner carries it."""
    code = ("import os; os.setsid(); from grader.sandbox.runtime.runner import keep_priority; keep_priority(); "
            "print(open('/proc/self/autogroup').read())")
    started = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             preexec_fn=lambda: os.nice(7))
    assert started.stdout.split()[-1] == "7", started.stdout
