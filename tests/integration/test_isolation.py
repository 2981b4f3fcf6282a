"""The boundary between the driver and the student's process in the real Docker sandbox: the student's code runs as
another uid, cannot read the hidden probe, write the result folder, signal, stop or trace the driver or the runner,
or read their memory and descriptors; the driver keeps working whatever it tries."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.domain.assignment import Limits
from grader.judge import ProbeData
from tests.probe_runs import probe_run_spec

pytestmark = pytest.mark.docker

STUDENT = """
import os, signal

def others():
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]

def attempt(action):
    try:
        action()
        return True
    except OSError:
        return False

def read(path):
    with open(path, "rb") as handle:
        return handle.read(16)

def write(path):
    with open(path, "wb") as handle:
        handle.write(b"forged")

def attacks():
    results = {
        "uid": os.getuid(),
        "read_probe": attempt(lambda: read("/probe/data/secret.txt")),
        "list_probe": attempt(lambda: os.listdir("/probe")),
        "write_result": attempt(lambda: write("/result/payload.bin")),
        "create_in_result": attempt(lambda: write("/result/forged.json")),
    }
    for pid in others():
        results[f"mem_{pid}"] = attempt(lambda: read(f"/proc/{pid}/mem"))
        results[f"environ_{pid}"] = attempt(lambda: read(f"/proc/{pid}/environ"))
        results[f"fds_{pid}"] = attempt(lambda: os.listdir(f"/proc/{pid}/fd"))
        results[f"stop_{pid}"] = attempt(lambda: os.kill(pid, signal.SIGSTOP))
        results[f"kill_{pid}"] = attempt(lambda: os.kill(pid, signal.SIGKILL))
    return results

def value():
    return 42
"""

PROBE = """
import os
import grader_probe as gp
solution = gp.load_solution()
with gp.step("attacks") as s:
    s.emit("results", solution.attacks())
with gp.step("still_driving") as s:
    s.emit("value", solution.value())
    s.emit("driver_uid", os.getuid())
gp.done()
"""


def test_the_students_process_cannot_touch_the_driver_the_probe_or_the_result(docker_backend, tmp_path: Path):
    spec = probe_run_spec(tmp_path, PROBE, student=STUDENT, limits=Limits(time_s=60))
    (tmp_path / "probe" / "data").mkdir()
    (tmp_path / "probe" / "data" / "secret.txt").write_text("hidden input")
    outcome = docker_backend.run(spec)
    data = ProbeData.from_files(outcome.files)
    assert outcome.status == "completed", outcome.stderr
    results = data.steps["attacks"].values["results"]
    assert results.pop("uid") == 65534
    assert len(results) >= 4 + 5 * 2, results  # the runner and the driver were both in sight
    assert {name for name, succeeded in results.items() if succeeded} == set(), results
    assert data.steps["still_driving"].values == {"value": 42, "driver_uid": 0}
