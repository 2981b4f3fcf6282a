"""Dashboard cells an instructor reads at a glance: no submission is not a graded 0, the retake cell names what
blocks it, and times show in the viewer's own time zone beside UTC."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.web.conftest import sign_in, submission_id_of, wait_graded

ZERO = b"def add(a, b):\n    return 0\n\n\ndef mean(values):\n    return 0\n"


def _row(dashboard: str, email: str) -> str:
    return re.search(rf'<tr data-student="{re.escape(email)}">(.*?)</tr>', dashboard, re.S).group(1)


def test_no_submission_is_told_apart_from_a_graded_zero(client: TestClient, people):
    csrf = sign_in(client, people["alice"].email)
    submission_id = submission_id_of(
        client.post(
            "/assignments/p1/submissions",
            data={"csrf_token": csrf},
            files={"file": ("solution.py", ZERO)},
            follow_redirects=False,
        )
    )
    assert wait_graded(client, submission_id) == "graded"
    sign_in(client, people["teacher"].email)
    dashboard = client.get("/instructor").text
    alice, bob = _row(dashboard, people["alice"].email), _row(dashboard, people["bob"].email)
    assert f'<a href="/instructor/submissions/{submission_id}">0</a>' in alice and "no submission" not in alice
    assert "data-no-submission>no submission</span>" in bob


def test_the_retake_cell_names_the_condition_that_blocks_it(client: TestClient, people):
    csrf = sign_in(client, people["teacher"].email)
    client.post(
        "/instructor/manual-scores",
        data={"student_id": people["bob"].id, "item": "retake_questions", "points": 2, "csrf_token": csrf},
    )
    dashboard = client.get("/instructor").text
    assert "no: homework 0 &lt; 70; 0/2 questions answered" in _row(dashboard, people["alice"].email)
    bob = _row(dashboard, people["bob"].email)
    assert "no: homework 0 &lt; 70</span>" in bob and "questions answered" not in bob


def test_times_show_in_the_viewers_time_zone_beside_utc(client: TestClient, people):
    sign_in(client, people["alice"].email)
    assert "2099-01-01 00:00 UTC" in client.get("/assignments/p1").text
    client.cookies.set("grader_tz", "Asia/Tokyo")
    assert "2099-01-01 00:00 UTC (2099-01-01 09:00 Asia/Tokyo)" in client.get("/assignments/p1").text
    client.cookies.set("grader_tz", "Not/AZone")
    page = client.get("/assignments/p1")
    assert page.status_code == 200 and "Not/AZone" not in page.text
