"""Forgery: a submission that implements nothing and tries to write its own verdict, on the real course (p1–p4), in the
real Docker sandbox. Each forger carries the genuine records of the project's reference run (what a 20/20 run sends
back) and tries every channel to get them, or a whole forged payload, in front of the judge: at import, by patching
whatever runtime modules it can reach, by walking frames, from atexit handlers, threads and detached children that
outlive the probe, by killing or stopping every other process, by printing payloads, and in notebooks by swapping the
modules the kernel serves through. Each must score no more than an empty submission, with a status the student
cannot choose (never infra_error, which is retried and never counts).
"""

from __future__ import annotations

import base64
from pathlib import Path
from unittest import mock

import nbformat
import pytest

from grader import pipeline
from grader.pipeline import Grader
from grader.sandbox.runtime.runner import PAYLOAD_MAGIC
from grader.settings import Settings

pytestmark = [pytest.mark.docker, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
PROJECTS = ("p1", "p2", "p3", "p4")

FORGER = """
import atexit, base64, json, os, signal, struct, sys, threading, time
RECORDS = {name: base64.b64decode(content) for name, content in %(records)r.items()}
PAYLOAD_MAGIC = %(magic)r

def forged_payload():
    header = {"returncode": 0, "timed_out": False, "duration_s": 1.0, "oom_kills": 0, "stdout": "", "stderr": "",
              "output_truncated": False, "refused_files": [], "files": [[k, len(v)] for k, v in RECORDS.items()]}
    encoded = json.dumps(header).encode()
    return PAYLOAD_MAGIC + struct.pack("!Q", len(encoded)) + encoded + b"".join(RECORDS.values())

def forge():
    for folder in ("/out", "/result", "/probe", "/grader", "/tmp", os.getcwd(), os.path.expanduser("~")):
        for name, content in [*RECORDS.items(), ("payload.bin", forged_payload())]:
            try:
                with open(os.path.join(folder, name), "wb") as handle:
                    handle.write(content)
            except OSError:
                pass
    for fd in range(3, 64):
        try:
            os.write(fd, forged_payload())
        except OSError:
            pass
    for path in ("/proc/1/fd/1", "/proc/%%d/fd/1" %% os.getppid()):
        try:
            with open(path, "wb") as handle:
                handle.write(forged_payload())
        except OSError:
            pass
"""

CHANNELS = {
    "at_import": "forge()\n",
    "prints_a_payload": "sys.stdout.buffer.write(forged_payload()); sys.stderr.buffer.write(forged_payload())\n",
    "patches_runtime_modules": (
        "for name in list(sys.modules):\n"
        "    if name.startswith('grader'):\n"
        "        module = sys.modules[name]\n"
        "        for attribute in ('step', 'send', 'Encoder', 'Host', 'done', '_write_step'):\n"
        "            if hasattr(module, attribute):\n"
        "                setattr(module, attribute, lambda *a, **k: forge())\n"
        "try:\n    import grader_probe\n    grader_probe.step = lambda *a, **k: forge()\nexcept Exception:\n    pass\n"
    ),
    "walks_frames": (
        "frame = sys._getframe()\n"
        "while frame is not None:\n"
        "    for key in list(frame.f_globals):\n"
        "        if key in ('Encoder', 'describe_error', 'records', 'connection'):\n"
        "            frame.f_globals[key] = forge\n"
        "    frame = frame.f_back\n"
    ),
    "from_atexit": "atexit.register(forge)\n",
    "from_a_thread": (
        "def keep_forging():\n    while True:\n        forge()\n        time.sleep(0.05)\n"
        "threading.Thread(target=keep_forging, daemon=False).start()\n"
    ),
    "from_a_detached_child": (
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        for _ in range(400):\n            forge()\n            time.sleep(0.05)\n"
        "    os._exit(0)\n"
    ),
    "kills_and_stops_every_other_process": (
        "for pid in [int(p) for p in os.listdir('/proc') if p.isdigit()]:\n"
        "    if pid != os.getpid():\n"
        "        for sig in (signal.SIGSTOP, signal.SIGKILL):\n"
        "            try:\n                os.kill(pid, sig)\n            except OSError:\n                pass\n"
        "forge()\n"
    ),
}

NOTEBOOK_CHANNELS = {
    "notebook_swaps_the_serving_modules": [
        "import runpy, sys, types\nfake = types.ModuleType('grader_student')\nfake.serve_notebook = lambda *a, **k: forge()\n"
        "sys.modules['grader_student'] = fake\nrunpy.run_path = lambda *a, **k: forge()\n"
    ],
    "notebook_background_forgers": [
        "atexit.register(forge)\nthreading.Thread(target=lambda: [forge() or time.sleep(0.05) for _ in range(400)], "
        "daemon=True).start()\n"
    ],
    "notebook_kills_the_driver": [
        "for pid in [int(p) for p in os.listdir('/proc') if p.isdigit()]:\n"
        "    if pid != os.getpid():\n"
        "        try:\n            os.kill(pid, signal.SIGKILL)\n        except OSError:\n            pass\n"
    ],
}


@pytest.fixture(scope="module")
def course_grader(docker_backend, tmp_path_factory) -> Grader:
    return Grader(Settings(course_dir=REPO, data_dir=tmp_path_factory.mktemp("forgery-data")), docker_backend)


@pytest.fixture(scope="module")
def reference_records(course_grader):
    """Per project, the records its reference run sends back (what would earn full marks if they were accepted)."""
    captured: dict[str, dict[str, bytes]] = {}
    judge_outcome = pipeline.judge_outcome

    def records_of(project: str) -> dict[str, bytes]:
        if project not in captured:

            def capture(course, outcome, result):
                captured[project] = dict(outcome.files)
                return judge_outcome(course, outcome, result)

            with mock.patch.object(pipeline, "judge_outcome", capture):
                verdict = course_grader.grade_path(REPO / "reference_solutions" / project, project)
            # Nearly full marks is enough to forge with (a loaded machine may cost a timing check).
            assert verdict.result.score >= verdict.result.automated_max_score - 2, verdict.result.criteria
        return captured[project]

    return records_of


@pytest.fixture(scope="module")
def empty_score(course_grader, tmp_path_factory):
    folder = as_folder(tmp_path_factory.mktemp("empty") / "submission", '"""Nothing here yet."""\n')
    scores: dict[str, float] = {}

    def score_of(project: str) -> float:
        if project not in scores:
            result = course_grader.grade_path(folder, project).result
            assert result.status in ("graded", "error"), result.message
            scores[project] = result.score
        return scores[project]

    return score_of


def as_folder(folder: Path, source: str) -> Path:
    """A submission folder holding solution.py: every project accepts a folder (p4 and p5 accept nothing else)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "solution.py").write_text(source)
    return folder


def forger_source(records: dict[str, bytes]) -> str:
    encoded = {name: base64.b64encode(content).decode("ascii") for name, content in records.items()}
    return FORGER % {"records": encoded, "magic": PAYLOAD_MAGIC}


def assert_no_better_than_empty(result, empty_score: float) -> None:
    assert result.status in ("graded", "error", "timeout", "oom"), f"{result.status}: {result.message}"
    assert result.score <= empty_score, [(c.id, c.points, c.feedback) for c in result.criteria if c.points]


@pytest.mark.parametrize("project", PROJECTS)
@pytest.mark.parametrize("channel", sorted(CHANNELS))
def test_a_forger_scores_no_more_than_an_empty_submission(
    project, channel, course_grader, reference_records, empty_score, tmp_path
):
    path = as_folder(tmp_path / "submission", forger_source(reference_records(project)) + CHANNELS[channel])
    assert_no_better_than_empty(course_grader.grade_path(path, project).result, empty_score(project))


@pytest.mark.parametrize("project", [project for project in PROJECTS if project != "p4"])  # p4 takes no notebooks
@pytest.mark.parametrize("channel", sorted(NOTEBOOK_CHANNELS))
def test_a_notebook_forger_scores_no_more_than_an_empty_submission(
    project, channel, course_grader, reference_records, empty_score, tmp_path
):
    notebook = nbformat.v4.new_notebook()
    cells = [forger_source(reference_records(project)), *NOTEBOOK_CHANNELS[channel]]
    notebook.cells = [nbformat.v4.new_code_cell(cell) for cell in cells]
    path = tmp_path / "solution.ipynb"
    nbformat.write(notebook, str(path))
    assert_no_better_than_empty(course_grader.grade_path(path, project).result, empty_score(project))


ALWAYS_EQUAL = """
class Anything:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    __lt__ = __le__ = __gt__ = __ge__ = __eq__
    def __hash__(self): return 0
    def __call__(self, *args, **kwargs): return self
    def __getattr__(self, name): return self
    def __getitem__(self, key): return self
    def __iter__(self): return iter(())
    def __len__(self): return 0
    def __bool__(self): return True
    def __float__(self): return 0.0
    def __int__(self): return 0
    def __index__(self): return 0
    def __enter__(self): return self
    def __exit__(self, *exc): return True
    def __repr__(self): return "0"

def __getattr__(name):
    return Anything()
"""


@pytest.mark.parametrize("project", PROJECTS)
def test_an_empty_submission_scores_nothing(project, empty_score):
    assert empty_score(project) == 0.0


@pytest.mark.parametrize("project", PROJECTS)
def test_a_module_of_objects_that_equal_everything_scores_nothing(project, course_grader, tmp_path):
    result = course_grader.grade_path(as_folder(tmp_path / "submission", ALWAYS_EQUAL), project).result
    assert [(c.id, c.points) for c in result.criteria if c.points] == []


@pytest.mark.parametrize("project", PROJECTS)
def test_the_starter_that_raises_not_implemented_everywhere_scores_nothing(project, course_grader):
    result = course_grader.grade_path(REPO / "assignments" / project / "starter", project).result
    assert [(c.id, c.points) for c in result.criteria if c.points] == []
