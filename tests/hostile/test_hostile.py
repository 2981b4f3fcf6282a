"""The adversarial suite: every hostile or odd submission in cases.py, against the real Docker sandbox.

Each case proves: the grader neither crashes nor hangs; it ends within the time limit plus a margin with a clear
status; its score stays within the case's bound (and equals what the honest code alone earns, where the case says so);
no hidden test source, expected value, reference code or host secret appears in anything a student sees; nothing on the
host changes (canary folder and marker paths); no sandbox container survives the run.
"""

from __future__ import annotations

import http.server
import io
import os
import secrets
import threading
import time
from pathlib import Path

import pytest
from rich.console import Console

from grader.feedback import render_report
from grader.pipeline import Grader
from grader.settings import Settings
from tests.hostile.cases import ATTACK_SUCCEEDED_MARKERS, CANARY_DIR, CASES, HOST_PORT, SECRETS, Case

COURSE = Path(__file__).resolve().parent / "course"
TIME_LIMIT_S = 40  # CPU seconds (the course's limits.time_s)
# A run that only waits is stopped at this many times its limit in wall-clock seconds: lower than the default, so that
# a submission sleeping forever keeps the suite short.
WALL_CAP_FACTOR = 3.0
MARGIN_S = 25  # container start, kernel start, payload collection, and a loaded CI machine
HOST_MARKERS = (Path("/tmp/hostile-planted.txt"), Path("/root/hostile-planted.txt"))


@pytest.fixture(scope="module")
def host_server():
    """A real web server on the host's loopback: a submission must not reach it."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


@pytest.fixture
def canary(tmp_path_factory, monkeypatch):
    """A random secret in the grader's environment and in a host file, and a folder that must stay as it is."""
    secret = f"HOST-CANARY-{secrets.token_hex(12)}"
    folder = tmp_path_factory.mktemp("canary")
    (folder / "secret.txt").write_text(secret)
    monkeypatch.setenv("GRADER_HOST_CANARY", secret)
    before = sorted((p.name, p.read_bytes()) for p in folder.iterdir())
    yield secret, folder
    assert sorted((p.name, p.read_bytes()) for p in folder.iterdir()) == before, "the canary folder changed"
    for marker in HOST_MARKERS:
        assert not marker.exists(), f"{marker} was written on the host"


@pytest.fixture(scope="module")
def hostile_grader(docker_backend, tmp_path_factory) -> Grader:
    settings = Settings(
        course_dir=COURSE, data_dir=tmp_path_factory.mktemp("hostile-data"), step_wall_cap_factor=WALL_CAP_FACTOR
    )
    return Grader(settings, docker_backend)


def materialise(case: Case, folder: Path, canary_dir: Path, port: int) -> Path:
    path = case.build(folder)
    if path.suffix == ".py":
        content = path.read_bytes()
        for placeholder, value in ((CANARY_DIR, str(canary_dir)), (HOST_PORT, str(port))):
            content = content.replace(placeholder.encode(), value.encode())
        path.write_bytes(content)
    return path


def student_visible_text(grader: Grader, result) -> str:
    """Everything a student can read: the result JSON (what the gradebook stores) and the rendered report."""
    buffer = io.StringIO()
    render_report(result, Console(file=buffer, width=200))
    return result.model_dump_json() + buffer.getvalue()


def sandbox_containers(grader: Grader) -> list:
    labels = [f"{key}={value}" for key, value in grader.backend.labels.items()]
    return grader.backend.client.containers.list(all=True, filters={"label": labels})


def test_the_suite_covers_every_family_with_at_least_40_cases():
    families = {case.family for case in CASES.values()}
    assert len(CASES) >= 40
    assert families == {"resources", "network", "secrets", "writing", "tampering", "intake", "benign"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_submission_is_contained(name, hostile_grader, canary, host_server, tmp_path):
    case = CASES[name]
    secret, canary_dir = canary
    submission = materialise(case, tmp_path, canary_dir, host_server)
    started = time.monotonic()
    verdict = hostile_grader.grade_path(submission, "p1")
    elapsed = time.monotonic() - started
    result = verdict.result

    assert elapsed < TIME_LIMIT_S * WALL_CAP_FACTOR + MARGIN_S, f"took {elapsed:.1f} s"
    assert result.status in case.statuses, f"{result.status}: {result.message}"
    assert result.score <= case.max_score
    if case.exact_score is not None:
        assert result.score == case.exact_score, [c.feedback for c in result.criteria]
    visible = student_visible_text(hostile_grader, result)
    for forbidden in (*SECRETS, secret):
        assert forbidden not in visible, f"{forbidden!r} leaked to the student"
    for marker in ATTACK_SUCCEEDED_MARKERS:
        assert marker not in visible, f"the attack reported success: {marker}"
    assert sandbox_containers(hostile_grader) == [], "a sandbox container survived the run"
    assert os.environ["GRADER_HOST_CANARY"] == secret
