"""`grader serve` as an instructor starts it: several web processes and one grading process on one database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from grader.db.base import make_engine, make_session_factory
from grader.db.migrations import upgrade_to_head
from grader.entrypoints.web_server import STARTUP_GRACE_S
from grader.gradebook.accounts import RosterEntry
from grader.gradebook.repository import Gradebook
from grader.settings import Settings
from tests.web.conftest import GRADING_TIMEOUT_S, SOLUTIONS
from tests.web.live_server import free_port

GRADER = Path(sys.executable).with_name("grader")


def _tokens(settings: Settings, count: int) -> list[str]:
    upgrade_to_head(settings.effective_database_url)
    engine = make_engine(settings.effective_database_url)
    with make_session_factory(engine).begin() as session:
        gradebook = Gradebook(session)
        accounts = gradebook.accounts
        tokens = [
            accounts.issue_api_token(
                accounts.add_user(RosterEntry(f"s{n}@example.edu", f"S {n}"), "student")[0], "test"
            )
            for n in range(count)
        ]
    engine.dispose()
    return tokens


def _wait_until_up(base_url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, "grader serve exited during startup"
        try:
            if httpx.get(f"{base_url}/login", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("grader serve did not start")


def _scores_once_graded(settings: Settings, submission_ids: list[int]) -> list[float]:
    engine = make_engine(settings.effective_database_url)
    deadline = time.monotonic() + GRADING_TIMEOUT_S
    try:
        while time.monotonic() < deadline:
            with make_session_factory(engine)() as session:
                gradebook = Gradebook(session)
                records = [gradebook.submissions.current_record(submission_id) for submission_id in submission_ids]
                if all(records):
                    return [record.score for record in records]
            time.sleep(0.3)
    finally:
        engine.dispose()
    raise AssertionError(f"not all of {submission_ids} graded within {GRADING_TIMEOUT_S} s")


def _stop(server: subprocess.Popen) -> None:
    """SIGTERM to the whole group, as Ctrl-C or a service manager sends it: serve must exit cleanly. If it hangs, it is
    killed, so that a failing test leaves no server behind."""
    os.killpg(server.pid, signal.SIGTERM)
    try:
        assert server.wait(timeout=60) == 0
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        raise


@pytest.mark.slow
def test_serve_takes_uploads_in_several_web_processes_and_grades_them_in_its_grading_process(settings: Settings):
    tokens = _tokens(settings, 4)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "GRADER_COURSE_DIR": str(settings.course_dir),
        "GRADER_DATA_DIR": str(settings.data_dir),
        "GRADER_DATABASE_URL": settings.effective_database_url,
        "GRADER_SANDBOX": "local",
        "GRADER_WORKERS": "2",
    }
    server = subprocess.Popen(
        [str(GRADER), "serve", "--port", str(port), "--processes", "2"], env=environment, start_new_session=True
    )
    try:
        _wait_until_up(base_url, server)
        solutions = ["right.py", "half.py", "right.py", "half.py"]
        ids = []
        for token, solution in zip(tokens, solutions):
            response = httpx.post(
                f"{base_url}/api/assignments/p1/submissions",
                headers={"Authorization": f"Bearer {token}"},
                files={"file": ("solution.py", (SOLUTIONS / solution).read_bytes(), "text/x-python")},
            )
            assert response.status_code == 202, response.text
            ids.append(response.json()["id"])
        assert _scores_once_graded(settings, ids) == [16.0, 10.0, 16.0, 10.0]
    finally:
        _stop(server)


def test_serve_refuses_a_port_in_use_with_a_clear_error(settings: Settings):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        finished = subprocess.run(
            [str(GRADER), "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            env={
                **os.environ,
                "GRADER_COURSE_DIR": str(settings.course_dir),
                "GRADER_DATA_DIR": str(settings.data_dir),
                "GRADER_DATABASE_URL": settings.effective_database_url,
            },
        )
    assert finished.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in finished.stderr
    assert "choose another --port" in finished.stderr


@pytest.mark.slow
def test_killing_serve_outright_leaves_no_web_or_grading_process_behind(settings: Settings):
    port = free_port()
    environment = {
        **os.environ,
        "GRADER_COURSE_DIR": str(settings.course_dir),
        "GRADER_DATA_DIR": str(settings.data_dir),
        "GRADER_DATABASE_URL": settings.effective_database_url,
        "GRADER_SANDBOX": "local",
    }
    server = subprocess.Popen([str(GRADER), "serve", "--port", str(port), "--processes", "2"], env=environment)
    try:
        _wait_until_up(f"http://127.0.0.1:{port}", server)
        children = psutil.Process(server.pid).children()
        assert len([c for c in children if "spawn_main" in " ".join(c.cmdline())]) == 3  # two web, one grading
        server.kill()  # SIGKILL: the parent runs no cleanup at all
        server.wait(timeout=30)
        _, alive = psutil.wait_procs(children, timeout=30)
        assert alive == []
    finally:
        if server.poll() is None:
            server.kill()


def _live_children(pid: int) -> set[int]:
    """The web and grading processes of serve `pid` that are running (not yet-unreaped ones it lost)."""
    live = set()
    for child in psutil.Process(pid).children():
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "spawn_main" in " ".join(child.cmdline()):
                live.add(child.pid)
        except psutil.Error:  # it ended while being looked at
            continue
    return live


@pytest.mark.slow
def test_a_web_or_grading_process_that_dies_is_started_again_and_serving_goes_on(settings: Settings):
    [token] = _tokens(settings, 1)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "GRADER_COURSE_DIR": str(settings.course_dir),
        "GRADER_DATA_DIR": str(settings.data_dir),
        "GRADER_DATABASE_URL": settings.effective_database_url,
        "GRADER_SANDBOX": "local",
    }
    server = subprocess.Popen(
        [str(GRADER), "serve", "--port", str(port), "--processes", "1"], env=environment, start_new_session=True
    )
    try:
        _wait_until_up(base_url, server)
        time.sleep(
            STARTUP_GRACE_S
        )  # one that dies sooner after its start stops serve instead (it would only die again)
        first = _live_children(server.pid)
        assert len(first) == 2  # one web, one grading
        for pid in first:
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            now = _live_children(server.pid)
            if len(now) == 2 and not now & first:
                break
            time.sleep(0.3)
        else:
            raise AssertionError("the killed processes were not started again")
        _wait_until_up(base_url, server)
        response = httpx.post(
            f"{base_url}/api/assignments/p1/submissions",
            headers={"Authorization": f"Bearer {token}"},
            files={"file": ("solution.py", (SOLUTIONS / "right.py").read_bytes(), "text/x-python")},
        )
        assert response.status_code == 202, response.text
        assert _scores_once_graded(settings, [response.json()["id"]]) == [16.0]
    finally:
        _stop(server)
