"""Regrade requests: a student asks about one criterion with a message, the instructor answers in the same thread
with an override, both see the thread, and the override reaches the result page and every total."""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import sign_in, submission_id_of, wait_graded

WRONG_ADD = b"def add(a, b):\n    return a - b\n\n\ndef mean(values):\n    return sum(values) / len(values)\n"


def _graded_wrong_add(client: TestClient, email: str) -> tuple[str, int]:
    csrf = sign_in(client, email)
    submission_id = submission_id_of(
        client.post(
            "/assignments/p1/submissions",
            data={"csrf_token": csrf},
            files={"file": ("solution.py", WRONG_ADD, "text/x-python")},
            follow_redirects=False,
        )
    )
    assert wait_graded(client, submission_id) == "graded"
    return csrf, submission_id


def _ask(client: TestClient, csrf: str, submission_id: int, criterion_id: str, message: str):
    return client.post(
        f"/submissions/{submission_id}/regrade-requests",
        data={"criterion_id": criterion_id, "message": message, "csrf_token": csrf},
        follow_redirects=False,
    )


def _p1(client: TestClient, email: str) -> str:
    rows = {row["email"]: row for row in csv.DictReader(io.StringIO(client.get("/instructor/grades.csv").text))}
    return rows[email]["p1"]


@pytest.mark.slow
def test_a_request_thread_with_an_instructors_override_reaches_the_result_and_the_totals(client: TestClient, people):
    csrf, submission_id = _graded_wrong_add(client, people["alice"].email)
    assert "data-ask-review" in client.get(f"/submissions/{submission_id}").text
    asked = _ask(client, csrf, submission_id, "addition", "add works for my own tests; please look again")
    assert asked.status_code == 303
    thread_url = asked.headers["location"]

    bob_csrf = sign_in(client, people["bob"].email)
    assert client.get(thread_url).status_code == 404
    assert _ask(client, bob_csrf, submission_id, "addition", "me too").status_code == 404

    teacher_csrf = sign_in(client, people["teacher"].email)
    assert _p1(client, people["alice"].email) == "24"  # average 6 of 20 rubric points, p1 weighs 80
    listed = client.get("/instructor/regrade-requests").text
    assert "Alice Adams" in listed and "open" in listed and thread_url in listed
    out_of_range = client.post(
        f"{thread_url}/messages", data={"message": "x", "override_points": "11", "csrf_token": teacher_csrf}
    )
    assert out_of_range.status_code == 400 and "between 0 and 10" in out_of_range.text
    client.post(
        f"{thread_url}/messages",
        data={
            "message": "The sign is wrong, but the structure is right: half the points.",
            "override_points": "5",
            "csrf_token": teacher_csrf,
        },
    )
    assert _p1(client, people["alice"].email) == "44"  # (6 + 5) of 20

    sign_in(client, people["alice"].email)
    thread = client.get(thread_url).text
    messages = re.findall(r'data-message data-role="(\w+)"', thread)
    assert messages == ["student", "instructor"]
    assert "please look again" in thread and "half the points" in thread and "data-override" in thread
    result = client.get(f"/submissions/{submission_id}").text
    assert "5 / 10" in result and "answered" in result


def test_a_request_needs_a_message_and_a_criterion_the_student_can_see(client: TestClient, people):
    csrf, submission_id = _graded_wrong_add(client, people["alice"].email)
    empty = _ask(client, csrf, submission_id, "addition", "   ")
    assert empty.status_code == 400 and "message is empty" in empty.text
    hidden = _ask(client, csrf, submission_id, "average", "why?")  # hidden until the deadline
    assert hidden.status_code == 400 and "not a criterion you can see" in hidden.text
    thread_url = _ask(client, csrf, submission_id, "addition", "look again").headers["location"]
    no_override = client.post(
        f"{thread_url}/messages", data={"message": "I give myself 10", "override_points": "10", "csrf_token": csrf}
    )
    assert no_override.status_code == 400 and "only an instructor overrides points" in no_override.text
