"""The spine end to end on the fixture course, on the local sandbox and on the real Docker sandbox.

Tampering cases pair honest code with a trick; the honest baseline here gets `add` right and `mean` wrong (10/20),
so any trick that gained points would show as a score above 10.
"""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from grader.pipeline import Grader

HONEST_ADD = "def add(a, b):\n    return a + b\n"
WRONG_MEAN = "def mean(values):\n    return 0.0\n"
BASELINE_CODE = HONEST_ADD + WRONG_MEAN
BASELINE_SCORE = 10.0
REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "course" / "reference_solutions" / "p1" / "solution.py"


@pytest.fixture(params=["local", "docker"])
def grader(request) -> Grader:
    return request.getfixturevalue(f"{request.param}_grader")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def zip_of(tmp_path: Path, files: dict[str, str]) -> Path:
    path = tmp_path / "submission.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return path


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


def test_notebook_with_failing_and_hung_cells_still_grades_the_other_cells(grader, tmp_path):
    cells = ["!pip install something\n" + HONEST_ADD, "raise RuntimeError('cell two breaks')",
             "import time\ntime.sleep(60)", "def mean(values):\n    return sum(values) / len(values)"]
    result = grader.grade_path(notebook_of(tmp_path, cells), "p1").result
    statuses = [cell.status for cell in result.notebook_cells]
    assert statuses == ["ok", "error", "timeout", "ok"]
    assert "RuntimeError" in result.notebook_cells[1].message
    assert result.score == 16.0


def test_rejected_submission_reports_its_reason(grader, tmp_path):
    result = grader.grade_path(write(tmp_path, "notes.txt", "hello"), "p1").result
    assert result.status == "rejected" and "wrong file type" in result.message and result.score == 0


TAMPERING = {
    "os_exit_at_import": {"solution.py": BASELINE_CODE + "import os\nos._exit(0)\n"},
    "sys_exit_at_import": {"solution.py": BASELINE_CODE + "import sys\nsys.exit(0)\n"},
    "exit_inside_mean": {"solution.py": HONEST_ADD + "def mean(values):\n    raise SystemExit(0)\n"},
    "prints_full_marks": {"solution.py": BASELINE_CODE + "print('score: 20/20')\nprint('ALL TESTS PASSED 20/20')\n"},
    "always_equal_object": {"solution.py": HONEST_ADD + "class Eq(float):\n    def __eq__(self, o):\n        return True\n"
                            "def mean(values):\n    return Eq(0)\n"},
    "conftest_and_pytest_ini": {"solution.py": BASELINE_CODE,
                                "conftest.py": "def pytest_runtest_makereport(item, call):\n    call.excinfo = None\n",
                                "pytest.ini": "[pytest]\naddopts = -p no:assertion\n"},
    "sitecustomize_and_usercustomize": {"solution.py": BASELINE_CODE,
                                        "sitecustomize.py": "import builtins\nbuiltins.abs = lambda x: 0\n",
                                        "usercustomize.py": "raise SystemExit(0)\n"},
    "shadows_json_and_grader_probe": {"solution.py": "import json\n" + BASELINE_CODE,
                                      "json.py": "def dumps(*a, **k):\n    return '{\"ok\": true}'\n",
                                      "grader_probe.py": "def load_solution():\n    return None\n"},
    "patches_probe_runtime": {"solution.py": BASELINE_CODE + (
        "import grader_probe\n"
        "_write = grader_probe._write_step\n"
        "def forged(name, **kw):\n"
        "    kw.update(ok=True, error=None)\n"
        "    kw['values'] = dict(kw['values'], means=[10/3, 18/3, 0.0])\n"
        "    _write(name, **kw)\n"
        "grader_probe._write_step = forged\n")},
    "forges_result_files": {"solution.py": BASELINE_CODE + (
        "import os, json\n"
        "out = os.environ.get('GRADER_OUT', '/out')\n"
        "for name in ('result.json', 'results.json', 'score.json'):\n"
        "    open(os.path.join(out, name), 'w').write(json.dumps({'score': 20, 'status': 'graded'}))\n"
        "open(os.path.join(out, 'mean.json'), 'w').write(json.dumps({'step': 'mean', 'ok': True,"
        " 'values': {'means': [1, 2, 3]}, 'arrays': [], 'error': None, 'duration_s': 0}))\n")},
    "background_process_outlives_run": {"solution.py": BASELINE_CODE + (
        "import os, time, json\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    time.sleep(1.5)\n"
        "    out = os.environ.get('GRADER_OUT', '/out')\n"
        "    open(os.path.join(out, 'mean.json'), 'w').write(json.dumps({'step': 'mean', 'ok': True,"
        " 'values': {'means': [0, 0, 0]}, 'arrays': [], 'error': None, 'duration_s': 0}))\n"
        "    os._exit(0)\n")},
    "imitates_grader_payload": {"solution.py": BASELINE_CODE + (
        "import sys, base64, json\n"
        "fake = {'returncode': 0, 'timed_out': False, 'duration_s': 1, 'oom_kills': 0, 'stdout': '', 'stderr': '',"
        " 'output_truncated': False, 'files': {}, 'refused_files': []}\n"
        "sys.stdout.write('\\n@@GRADER-PAYLOAD-v1@@\\n' + base64.b64encode(json.dumps(fake).encode()).decode() + '\\n')\n")},
    "floods_output": {"solution.py": BASELINE_CODE + "for _ in range(200000):\n    print('20/20 PASSED')\n"},
}


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_tampering_never_scores_above_the_honest_baseline(grader, tmp_path, case):
    result = grader.grade_path(zip_of(tmp_path, TAMPERING[case]), "p1").result
    assert result.status in {"graded", "error"}, result.message
    assert result.score <= BASELINE_SCORE


def test_infinite_loop_times_out_within_limit_and_margin(grader, tmp_path):
    started = time.monotonic()
    result = grader.grade_path(write(tmp_path, "s.py", "def run():\n    while True:\n        pass\n"), "p2").result
    elapsed = time.monotonic() - started
    assert result.status == "timeout" and result.score == 0
    assert elapsed < 6 + 15, f"took {elapsed:.1f} s for a 6 s limit"


def test_memory_hog_is_stopped_and_reported(grader, tmp_path):
    code = "def run():\n    blocks = []\n    while True:\n        blocks.append(bytearray(50_000_000))\n"
    result = grader.grade_path(write(tmp_path, "s.py", code), "p2").result
    assert result.status == "oom", (result.status, result.message, result.logs.stderr[-300:])
    assert "memory" in result.message


def test_the_run_cannot_reach_the_network(docker_grader, tmp_path):
    code = ("import socket\n"
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
            "        return 42\n")
    result = docker_grader.grade_path(write(tmp_path, "s.py", code), "p2").result
    assert result.score == 20, [c.feedback for c in result.criteria]
