"""A probe step's budget, and the run's limit, are CPU time under a wall-clock cap: real student processes that burn
CPU (themselves or in a child), sleep, or compute on a core shared with busy neighbours. The local sandbox's clocks
(processes in /proc) run everywhere; the Docker sandbox's (the container's cgroup) is tested against a student that
hides its work in short-lived children nobody waits for."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.domain.assignment import Limits
from grader.judge import ProbeData
from grader.pipeline import timeout_reason
from grader.sandbox.base import RunOutcome
from grader.sandbox.local_backend import LocalBackend
from tests.probe_runs import probe_run_spec

STUDENT = """
import os, signal, subprocess, sys, time

def burn(cpu_s):
    # CPU time, not wall time: the same work however busy the machine is.
    until = time.process_time() + cpu_s
    while time.process_time() < until:
        pass
    return "done"

def burn_in_a_child(cpu_s):
    code = f"import time\\nuntil = time.process_time() + {cpu_s}\\nwhile time.process_time() < until:\\n    pass"
    subprocess.run([sys.executable, "-c", code], check=True)
    return "done"

def burn_in_unwaited_children(cpu_s):
    # Children nobody waits for: their CPU never reaches a parent's cutime.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    for _ in range(int(cpu_s / 0.02)):
        if os.fork() == 0:
            until = time.process_time() + 0.02
            while time.process_time() < until:
                pass
            os._exit(0)
        time.sleep(0.03)
    return "done"

def nap(seconds):
    time.sleep(seconds)
    return "done"
"""


def run_probe(tmp_path: Path, probe: str, *, backend=None, **spec_fields) -> ProbeData:
    spec = probe_run_spec(tmp_path, probe, student=STUDENT, limits=Limits(time_s=120, cpus=1), **spec_fields)
    outcome = (backend or LocalBackend(use_bwrap=False)).run(spec)
    assert outcome.status == "completed", outcome.stderr
    return ProbeData.from_files(outcome.files)


def run_step(tmp_path: Path, call: str, budget_s: float, *, backend=None, wall_cap_factor: float = 5.0):
    """One step, `solution.<call>` under a budget of `budget_s`; returns its record."""
    probe = (
        "import grader_probe as gp\nsolution = gp.load_solution()\n"
        f"with gp.step('work', timeout_s={budget_s}) as s:\n    s.emit('answer', solution.{call})\ngp.done()\n"
    )
    data = run_probe(tmp_path, probe, backend=backend, step_wall_cap_factor=wall_cap_factor)
    return data.steps["work"]


def test_a_step_that_burns_cpu_past_its_budget_is_stopped_on_cpu(tmp_path):
    step = run_step(tmp_path, "burn(30)", budget_s=1.0)
    assert step.error["type"] == "StepTimeout"
    assert "over its budget of 1 s" in step.error["message"], step.error
    assert step.duration_s < 5.0  # the wall cap (5 s) was not what stopped it


def test_a_child_process_burning_cpu_is_charged_to_the_step(tmp_path):
    step = run_step(tmp_path, "burn_in_a_child(30)", budget_s=1.0)
    assert step.error["type"] == "StepTimeout"
    assert "over its budget of 1 s" in step.error["message"], step.error


def test_a_step_that_sleeps_past_the_wall_cap_is_stopped_on_the_wall_cap(tmp_path):
    step = run_step(tmp_path, "nap(60)", budget_s=0.5, wall_cap_factor=3.0)
    assert step.error["type"] == "StepTimeout"
    message = step.error["message"]
    assert "its cap (3 times its 0.5 s CPU budget)" in message and "was waiting" in message, message
    assert 1.5 <= step.duration_s < 10.0


def test_a_step_under_both_limits_passes(tmp_path):
    step = run_step(tmp_path, "burn(0.2)", budget_s=5.0)
    assert step.ok, step.error
    assert step.values == {"answer": "done"}


def test_a_budget_on_every_thread_scales_with_the_threads_the_students_process_gets(tmp_path):
    probe = (
        "import grader_probe as gp\nwith gp.step('budgets') as s:\n    s.emit('run', gp.on_every_thread(10))\n"
        "    gp.use_torch_threads(1)\n    s.emit('one_thread', gp.on_every_thread(10))\ngp.done()\n"
    )
    step = run_probe(tmp_path, probe, threads=3).steps["budgets"]
    assert step.values == {"run": 30, "one_thread": 10}


@pytest.fixture
def one_busy_core() -> Iterator[None]:
    """This process and what it starts share one core with three busy loops, each in a session (a scheduling group)
    of its own: the student's process gets about a quarter of the core."""
    core = min(os.sched_getaffinity(0))
    loop = "import os\nos.sched_setaffinity(0, {%d})\nwhile True:\n    pass" % core
    neighbours = [subprocess.Popen([sys.executable, "-c", loop], start_new_session=True) for _ in range(3)]
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {core})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)
        for neighbour in neighbours:
            neighbour.kill()
            neighbour.wait()


def test_a_step_slowed_by_a_busy_machine_passes_on_its_cpu_time(tmp_path, one_busy_core):
    """A wall-clock budget would have stopped this step: it took longer than its budget, but computed less."""
    step = run_step(tmp_path, "burn(1.0)", budget_s=2.0, wall_cap_factor=30.0)
    assert step.ok, step.error
    assert step.duration_s > 2.0, f"the neighbours did not slow the step down ({step.duration_s:.1f} s)"


@pytest.mark.docker
def test_in_docker_cpu_of_children_nobody_waits_for_is_still_charged(tmp_path, docker_backend):
    """The container's cgroup counts every process, ended or not, so unwaited children cannot hide their CPU."""
    step = run_step(tmp_path, "burn_in_unwaited_children(30)", budget_s=1.0, backend=docker_backend)
    assert step.error["type"] == "StepTimeout"
    assert "over its budget of 1 s" in step.error["message"], step.error


@pytest.mark.docker
def test_in_docker_a_step_under_both_limits_passes(tmp_path, docker_backend):
    step = run_step(tmp_path, "burn(0.2)", budget_s=5.0, backend=docker_backend)
    assert step.ok, step.error


def test_a_notebooks_kernel_burning_cpu_past_its_budget_is_stopped_on_cpu(tmp_path):
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("def burn():\n    while True:\n        pass\n")]
    probe = (
        "import grader_probe as gp\nsolution = gp.load_solution()\nwith gp.step('work', timeout_s=1) as s:\n"
        "    solution.burn()\ngp.done()\n"
    )
    spec = probe_run_spec(tmp_path, probe, notebook=notebook, limits=Limits(time_s=120, cell_timeout_s=30))
    outcome = LocalBackend(use_bwrap=False).run(spec)
    step = ProbeData.from_files(outcome.files).steps["work"]
    assert step.error["type"] == "StepTimeout"
    assert "over its budget of 1 s" in step.error["message"], step.error


def run_unbudgeted(tmp_path: Path, call: str, time_s: int, *, backend=None, wall_cap_factor: float = 5.0) -> RunOutcome:
    """A run whose only step, `solution.<call>`, has no budget of its own: only the run's limit of `time_s` applies."""
    probe = (
        "import grader_probe as gp\nsolution = gp.load_solution()\n"
        f"with gp.step('work') as s:\n    s.emit('answer', solution.{call})\ngp.done()\n"
    )
    spec = probe_run_spec(
        tmp_path, probe, student=STUDENT, limits=Limits(time_s=time_s, cpus=1), step_wall_cap_factor=wall_cap_factor
    )
    return (backend or LocalBackend(use_bwrap=False)).run(spec)


def test_a_run_that_burns_cpu_past_its_limit_is_stopped_on_cpu(tmp_path):
    outcome = run_unbudgeted(tmp_path, "burn(60)", time_s=2)
    assert outcome.status == "timeout"
    assert outcome.run_time.passed == "cpu" and outcome.run_time.cpu_s > 2, outcome.run_time
    assert outcome.duration_s < 10  # the wall cap (5 x 2 s) was not what stopped it
    # The runner reads the clock every RUN_WATCH_S, so the run stops a little past its limit, never at it exactly.
    used = f"used {outcome.run_time.cpu_s:.1f} s of CPU time, over the run's limit of 2 s of CPU time"
    assert used in timeout_reason(outcome, 2)


def test_a_run_that_burns_cpu_in_a_child_is_stopped_on_cpu(tmp_path):
    outcome = run_unbudgeted(tmp_path, "burn_in_a_child(60)", time_s=2)
    assert outcome.run_time.passed == "cpu", outcome.run_time
    assert outcome.duration_s < 10


def test_a_run_that_sleeps_past_the_wall_cap_is_stopped_on_the_wall_cap(tmp_path):
    outcome = run_unbudgeted(tmp_path, "nap(60)", time_s=1, wall_cap_factor=3.0)
    assert outcome.status == "timeout"
    assert outcome.run_time.passed == "wall" and outcome.run_time.cpu_s < 1, outcome.run_time
    assert 3.0 <= outcome.duration_s < 10.0
    message = timeout_reason(outcome, 1)
    assert "the run's cap (3 s: a multiple of its 1 s CPU limit)" in message and "was waiting" in message, message


def test_a_run_slowed_by_a_busy_machine_completes_on_its_cpu_time(tmp_path, one_busy_core):
    """A wall-clock limit of 3 s would have stopped this run: it took longer, but computed less."""
    outcome = run_unbudgeted(tmp_path, "burn(1.0)", time_s=3, wall_cap_factor=30.0)
    assert outcome.status == "completed", (outcome.run_time, outcome.stderr)
    assert outcome.run_time.cpu_s < 3 < outcome.duration_s, f"the neighbours did not slow the run down {outcome}"


@pytest.mark.docker
def test_in_docker_a_run_hiding_cpu_in_children_nobody_waits_for_is_stopped_on_cpu(tmp_path, docker_backend):
    """The container's cgroup counts every process, ended or not: the run's limit sees what /proc would miss."""
    outcome = run_unbudgeted(tmp_path, "burn_in_unwaited_children(60)", time_s=2, backend=docker_backend)
    assert outcome.status == "timeout"
    assert outcome.run_time.passed == "cpu" and outcome.run_time.cpu_s > 2, outcome.run_time
    assert outcome.duration_s < 10
