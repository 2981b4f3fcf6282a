"""A notebook cell's limit is CPU time of the kernel and its children under a wall-clock cap, like a probe step's: a
cell that computes too much is interrupted on CPU, one that waits on the cap, and one slowed by a busy machine is not
interrupted at all. The local sandbox counts the kernel's session in /proc; Docker counts the container's cgroup less
the driver (which runs nbclient)."""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from grader.domain.assignment import Limits
from grader.sandbox.base import RunOutcome
from grader.sandbox.local_backend import LocalBackend
from tests.integration.test_step_budget import one_busy_core  # noqa: F401  (a fixture)
from tests.probe_runs import probe_run_spec

LOAD_ONLY = "import grader_probe as gp\nsolution = gp.load_solution()\ngp.done()\n"


def burn_cell(cpu_s: float) -> str:
    """A cell that computes for `cpu_s` CPU seconds and prints how long that took on the wall clock."""
    return (
        "import time\nstarted = time.monotonic()\nuntil = time.process_time() + %r\n"
        "while time.process_time() < until:\n    pass\nprint('cell wall %%.2f s' %% (time.monotonic() - started))\n"
        % cpu_s
    )


def run_notebook(tmp_path, cells: list[str], *, cell_s: int, wall_cap_factor: float, backend=None) -> RunOutcome:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    spec = probe_run_spec(
        tmp_path,
        LOAD_ONLY,
        notebook=notebook,
        limits=Limits(time_s=120, cpus=1, cell_timeout_s=cell_s),
        step_wall_cap_factor=wall_cap_factor,
    )
    outcome = (backend or LocalBackend(use_bwrap=False)).run(spec)
    assert outcome.status == "completed", outcome.stderr
    return outcome


def cell_report(outcome: RunOutcome) -> list[dict]:
    return json.loads(outcome.files["_notebook.json"])["cells"]


def test_a_cell_burning_cpu_past_its_limit_is_interrupted_on_cpu(tmp_path):
    outcome = run_notebook(tmp_path, ["while True:\n    pass\n", "x = 1\n"], cell_s=1, wall_cap_factor=30.0)
    first, second = cell_report(outcome)
    assert first["status"] == "timeout", first
    assert "of CPU time, over its limit of 1 s of CPU time" in first["message"], first
    assert "do less work" in first["message"]
    assert second["status"] == "ok"
    assert outcome.duration_s < 30  # the wall cap (30 s) was not what stopped it


def test_a_sleeping_cell_past_the_wall_cap_is_interrupted_on_the_wall_cap(tmp_path):
    outcome = run_notebook(tmp_path, ["import time\ntime.sleep(60)\n", "x = 1\n"], cell_s=1, wall_cap_factor=3.0)
    first, second = cell_report(outcome)
    assert first["status"] == "timeout", first
    assert "past its cap of 3 s (a multiple of its limit of 1 s of CPU time)" in first["message"], first
    assert "was waiting" in first["message"]
    assert second["status"] == "ok"


def test_a_cell_slowed_by_a_busy_machine_completes_on_its_cpu_time(tmp_path, one_busy_core):
    """A wall-clock limit of 2 s would have interrupted this cell: it took longer, but computed less."""
    outcome = run_notebook(tmp_path, [burn_cell(1.0)], cell_s=2, wall_cap_factor=30.0)
    [cell] = cell_report(outcome)
    assert cell["status"] == "ok", cell
    wall = float(re.search(r"cell wall ([\d.]+) s", outcome.stdout).group(1))
    assert wall > 2.0, f"the neighbours did not slow the cell down ({wall:.1f} s)"


def test_cells_past_their_cpu_budget_together_are_reported_and_not_run(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(burn_cell(1.5)) for _ in range(3)]
    spec = probe_run_spec(
        tmp_path,
        LOAD_ONLY,
        notebook=notebook,
        limits=Limits(time_s=120, cpus=1, cell_timeout_s=2, notebook_cells_s=2),
        step_wall_cap_factor=30.0,
    )
    outcome = LocalBackend(use_bwrap=False).run(spec)
    statuses = [cell["status"] for cell in cell_report(outcome)]
    assert statuses == ["ok", "skipped", "skipped"], cell_report(outcome)
    assert "had used their 2 s together (of CPU time" in cell_report(outcome)[-1]["message"]


@pytest.mark.docker
def test_in_docker_a_cell_burning_cpu_past_its_limit_is_interrupted_on_cpu(tmp_path, docker_backend):
    outcome = run_notebook(
        tmp_path, ["while True:\n    pass\n", "x = 1\n"], cell_s=1, wall_cap_factor=30.0, backend=docker_backend
    )
    first, second = cell_report(outcome)
    assert first["status"] == "timeout" and "over its limit of 1 s of CPU time" in first["message"], first
    assert second["status"] == "ok"


@pytest.mark.docker
def test_in_docker_a_cell_under_its_cpu_limit_completes(tmp_path, docker_backend):
    """The driver's own CPU (nbclient, the watcher) is not charged to the cell."""
    outcome = run_notebook(tmp_path, [burn_cell(0.5)], cell_s=2, wall_cap_factor=30.0, backend=docker_backend)
    assert [cell["status"] for cell in cell_report(outcome)] == ["ok"], cell_report(outcome)
