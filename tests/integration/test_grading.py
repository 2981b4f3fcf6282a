"""The spine end to end on the fixture course, on the local sandbox and on the real Docker sandbox.

Tampering and intrusion cases live in tests/hostile (Docker only); these are the functional paths.
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest

from grader.pipeline import Grader

HONEST_ADD = "def add(a, b):\n    return a + b\n"
WRONG_MEAN = "def mean(values):\n    return 0.0\n"
BASELINE_CODE = HONEST_ADD + WRONG_MEAN
BASELINE_SCORE = 10.0
REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "course" / "reference_solutions" / "p1" / "solution.py"


@pytest.fixture(params=["local", "bwrap", pytest.param("docker", marks=pytest.mark.docker)])
def grader(request) -> Grader:
    return request.getfixturevalue(f"{request.param}_grader")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def criteria_of(result) -> list[tuple[str, float]]:
    return [(criterion.id, criterion.points) for criterion in result.criteria]


def notebook_of(tmp_path: Path, cells: list[str]) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(cell) for cell in cells]
    path = tmp_path / "solution.ipynb"
    nbformat.write(notebook, str(path))
    return path


def test_reference_gets_full_automated_marks_every_time(grader, tmp_path):
    scores = {grader.grade_path(REFERENCE, "p1").result.score for _ in range(2)}
    assert scores == {16.0}  # 20 minus the 4 manual points


def test_partly_broken_submission_gets_partial_points_with_feedback(grader, tmp_path):
    result = grader.grade_path(write(tmp_path, "s.py", BASELINE_CODE), "p1").result
    by_id = {c.id: c for c in result.criteria}
    assert result.status == "graded" and result.score == BASELINE_SCORE
    assert by_id["addition"].points == 10 and by_id["average"].points == 0
    assert "arithmetic mean" in by_id["average"].feedback


def test_crash_feedback_names_the_students_file_and_line(grader, tmp_path):
    code = HONEST_ADD + "def mean(values):\n    return values[99]\n"
    result = grader.grade_path(write(tmp_path, "s.py", code), "p1").result
    average = [c for c in result.criteria if c.id == "average"][0]
    assert "IndexError at solution.py:4 in mean" in average.feedback
    assert "grader_probe" not in average.feedback and "probe.py" not in average.feedback


def test_notebook_is_graded_like_the_same_code_as_py(grader, tmp_path):
    as_py = grader.grade_path(write(tmp_path, "s.py", BASELINE_CODE), "p1").result
    as_notebook = grader.grade_path(notebook_of(tmp_path, [HONEST_ADD, WRONG_MEAN]), "p1").result
    assert as_notebook.status == "graded"
    assert [(c.id, c.points) for c in as_notebook.criteria] == [(c.id, c.points) for c in as_py.criteria]


@pytest.mark.slow
def test_notebook_with_failing_and_hung_cells_still_grades_the_other_cells(grader, tmp_path):
    cells = [
        "!pip install something\n" + HONEST_ADD,
        "raise RuntimeError('cell two breaks')",
        "import time\ntime.sleep(60)",
        "def mean(values):\n    return sum(values) / len(values)",
    ]
    result = grader.grade_path(notebook_of(tmp_path, cells), "p1").result
    statuses = [cell.status for cell in result.notebook_cells]
    assert statuses == ["skipped", "error", "timeout", "ok"]
    assert "RuntimeError" in result.notebook_cells[1].message
    assert criteria_of(result) == criteria_of(grader.grade_path(REFERENCE, "p1").result)


def test_rejected_submission_reports_its_reason(grader, tmp_path):
    result = grader.grade_path(write(tmp_path, "notes.txt", "hello"), "p1").result
    assert result.status == "rejected" and "wrong file type" in result.message and result.score == 0


@pytest.mark.slow
def test_infinite_loop_times_out_within_limit_and_margin(grader, tmp_path):
    started = time.monotonic()
    result = grader.grade_path(write(tmp_path, "s.py", "def run():\n    while True:\n        pass\n"), "p2").result
    elapsed = time.monotonic() - started
    assert result.status == "timeout" and result.score == 0
    assert elapsed < 6 + 15, f"took {elapsed:.1f} s for a 6 s limit"


MEMORY_HOG = "def run():\n    blocks = []\n    while True:\n        blocks.append(bytearray(50_000_000))\n"


def test_memory_hog_is_stopped_and_reported(docker_grader, tmp_path):
    result = docker_grader.grade_path(write(tmp_path, "s.py", MEMORY_HOG), "p2").result
    assert result.status == "oom", (result.status, result.message, result.logs.stderr[-300:])
    assert "memory" in result.message


@pytest.mark.parametrize("backend", ["local", "bwrap"])
def test_memory_hog_on_the_local_sandbox_fails_its_step_by_name(backend, request, tmp_path):
    """Without a cgroup the limit is an rlimit: the code gets a MemoryError, which only the kernel's OOM kill may turn
    into the status `oom` (raising MemoryError on purpose must not)."""
    grader = request.getfixturevalue(f"{backend}_grader")
    result = grader.grade_path(write(tmp_path, "s.py", MEMORY_HOG), "p2").result
    assert result.status == "graded" and result.score == 0
    assert any("MemoryError at solution.py:4 in run" in criterion.feedback for criterion in result.criteria)


def test_raising_memory_error_is_not_an_oom(docker_grader, tmp_path):
    code = "def run():\n    print('MemoryError')\n    raise MemoryError('out of memory')\n"
    result = docker_grader.grade_path(write(tmp_path, "s.py", code), "p2").result
    assert result.status == "graded" and "memory limit" not in result.message


def test_the_run_cannot_reach_the_network(docker_grader, tmp_path):
    code = (
        "import socket\n"
        "def run():\n"
        "    for host, port in (('1.1.1.1', 53), ('127.0.0.1', 2375), ('127.0.0.1', 6379)):\n"
        "        try:\n"
        "            socket.create_connection((host, port), timeout=2).close()\n"
        "            return f'reached {host}:{port}'\n"
        "        except OSError:\n"
        "            pass\n"
        "    try:\n"
        "        socket.getaddrinfo('pypi.org', 443)\n"
        "        return 'dns works'\n"
        "    except OSError:\n"
        "        return 42\n"
    )
    result = docker_grader.grade_path(write(tmp_path, "s.py", code), "p2").result
    assert result.score == 20, [c.feedback for c in result.criteria]


def test_the_working_directory_and_tmp_are_writable(grader, tmp_path):
    code = (
        "import os, tempfile\n"
        "def run():\n"
        "    with open('checkpoint.txt', 'w') as f:\n"
        "        f.write('42')\n"
        "    with tempfile.NamedTemporaryFile('w+', delete=False) as t:\n"
        "        t.write('ok')\n"
        "    return int(open('checkpoint.txt').read()) if os.path.exists(t.name) else 0\n"
    )
    result = grader.grade_path(write(tmp_path, "s.py", code), "p2").result
    assert result.score == 20, [c.feedback for c in result.criteria]


def test_bubblewrap_masks_the_hidden_folders_and_the_network(bwrap_grader, tmp_path):
    judge = bwrap_grader.settings.assignments_dir / "p1" / "hidden_tests" / "judge" / "judge.py"
    code = (
        "import socket\n"
        "def run():\n"
        "    try:\n"
        f"        open({str(judge)!r}).read()\n"
        "        return 'read the judge'\n"
        "    except OSError:\n"
        "        pass\n"
        "    try:\n"
        "        socket.create_connection(('1.1.1.1', 53), 2)\n"
        "        return 'reached the network'\n"
        "    except OSError:\n"
        "        return 42\n"
    )
    result = bwrap_grader.grade_path(write(tmp_path, "s.py", code), "p2").result
    assert "bubblewrap" in result.sandbox.isolation
    assert result.score == 20, [c.feedback for c in result.criteria]


def test_notebook_magics_and_shell_escapes_follow_ipythons_own_parsing(local_grader, tmp_path):
    marker = tmp_path / "shell-ran"
    cells = [
        HONEST_ADD + f"files = !touch {marker}\nget_ipython().system('touch {marker}')\n",
        "def mean(values):\n    if values:\n        %time total = sum(values)\n"
        "    return sum(values) / len(values) * (1\n% 2)\n",
        "%%bash\ntouch " + str(marker) + "\n",
        "%%writefile helper.py\nSCALE = 1\n",
        "import helper\nassert helper.SCALE == 1\n",
    ]
    result = local_grader.grade_path(notebook_of(tmp_path, cells), "p1").result
    statuses = [(cell.status, cell.message) for cell in result.notebook_cells]
    assert [status for status, _ in statuses] == ["skipped", "ok", "skipped", "ok", "ok"], statuses
    assert "!touch" in statuses[0][1] and "%%bash" in statuses[2][1]
    assert not marker.exists(), "a shell escape ran"
    assert criteria_of(result) == criteria_of(
        local_grader.grade_path(write(tmp_path, "s.py", REFERENCE.read_text()), "p1").result
    )


def test_a_kernel_that_exits_keeps_the_report_of_the_cells_that_ran(local_grader, tmp_path):
    cells = [HONEST_ADD, "import os\nos._exit(0)", "def mean(values):\n    return 1.0\n"]
    result = local_grader.grade_path(notebook_of(tmp_path, cells), "p1").result
    assert [cell.status for cell in result.notebook_cells] == ["ok", "error"]
    assert result.status == "error" and "kernel died while code cell 2 ran" in result.message


HIDDEN_LINE = "EXPECTED_SUMS = [7, 8, 3345678]"  # a line of the fixture judge: what a leak would look like


def test_a_load_error_quoting_hidden_text_is_redacted(local_grader, tmp_path):
    result = local_grader.grade_path(write(tmp_path, "s.py", f"raise ValueError({HIDDEN_LINE!r})\n"), "p1").result
    assert result.status == "error" and "could not be loaded" in result.message
    assert HIDDEN_LINE not in result.model_dump_json() and "[hidden]" in result.message


def test_a_notebook_cell_message_quoting_hidden_text_is_redacted(local_grader, tmp_path):
    cells = [HONEST_ADD, f"raise ValueError({HIDDEN_LINE!r})", "def mean(values):\n    return 0.0\n"]
    result = local_grader.grade_path(notebook_of(tmp_path, cells), "p1").result
    assert result.notebook_cells[1].status == "error" and "[hidden]" in result.notebook_cells[1].message
    assert HIDDEN_LINE not in result.model_dump_json()


@pytest.mark.slow
def test_a_notebook_sweep_past_the_cells_budget_leaves_the_checks_their_time(grader, tmp_path):
    """Eight sweep cells of 6 s of CPU, each stopped at the 5 s per-cell limit, would take the whole 40 s run (and did:
    status timeout, no cell report); the cells get 12 s of CPU together (the fixture's notebook_cells_s), the rest are
    reported and not run, and the checks still run: the same criteria as the .py."""
    sweep = "import time\nuntil = time.process_time() + 6\nwhile time.process_time() < until:\n    pass\n"
    cells = [HONEST_ADD, "def mean(values):\n    return sum(values) / len(values)\n", *[sweep] * 8]
    result = grader.grade_path(notebook_of(tmp_path, cells), "p1").result
    statuses = [cell.status for cell in result.notebook_cells]
    as_py = grader.grade_path(REFERENCE, "p1").result
    assert result.status == "graded" and criteria_of(result) == criteria_of(as_py), (result.status, result.message)
    assert statuses[:3] == ["ok", "ok", "timeout"] and statuses[-1] == "skipped", statuses
    assert "over its limit of 5 s of CPU time" in result.notebook_cells[2].message, result.notebook_cells[2]
    assert "12 s together" in result.notebook_cells[-1].message


def test_a_notebooks_cell_report_numbers_code_cells_and_names_the_cell_that_failed(local_grader, tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# My solution"),
        nbformat.v4.new_code_cell(HONEST_ADD),
        nbformat.v4.new_markdown_cell("The mean:"),
        nbformat.v4.new_code_cell("scale = undefined_setting\ndef mean(values):\n    return 0.0\n"),
        nbformat.v4.new_code_cell("def broken(:\n    pass\n"),
    ]
    path = tmp_path / "solution.ipynb"
    nbformat.write(notebook, str(path))
    result = local_grader.grade_path(path, "p1").result
    cells = {cell.label: cell for cell in result.notebook_cells}
    assert set(cells) == {"code cell 1", "code cell 2", "code cell 3"}
    assert cells["code cell 2"].status == "error" and cells["code cell 2"].first_line == "scale = undefined_setting"
    assert "code cell 3" in cells["code cell 3"].message and "ipykernel" not in cells["code cell 3"].message
    average = next(c for c in result.criteria if c.id == "average")
    assert "mean is defined in code cell 2, which failed" in average.feedback, average.feedback
