"""Plagiarism review in the web app: a detector run asked for on the dashboard is carried out by the grading
process's queue, its flagged pair becomes a case with the side-by-side view, and a confirmation shows the penalty to
both students and in the CSV."""

from __future__ import annotations

import csv
import io
import re
import time

import pytest
from fastapi.testclient import TestClient

from grader.db.base import make_engine, make_session_factory
from grader.gradebook.accounts import RosterEntry
from grader.gradebook.repository import Gradebook
from tests.plagiarism.conftest import ALICE, BOB, CAROL, MALLORY, STARTER
from tests.web.conftest import sign_in, submission_id_of, wait_graded

RUN_TIMEOUT_S = 180


@pytest.fixture
def word_count_cohort(client: TestClient, people, settings, password_hash: str) -> dict[str, str]:
    """Four students' p1 uploads over a common starter: Alice's and Mallory's share a tokenizer's quirks (the
    detector's own fixtures), Bob and Carol wrote theirs; e-mail -> code."""
    starter = settings.course_dir / "assignments" / "p1" / "starter"
    starter.mkdir(exist_ok=True)
    (starter / "solution.py").write_text(STARTER)
    engine = make_engine(settings.effective_database_url)
    with make_session_factory(engine).begin() as session:
        gradebook = Gradebook(session)
        for email, name in (("carol@example.edu", "Carol Cole"), ("mallory@example.edu", "Mallory Moss")):
            user, _ = gradebook.accounts.add_user(RosterEntry(email, name), "student")
            gradebook.accounts.set_password(user, password_hash)
    engine.dispose()
    return {
        people["alice"].email: ALICE,
        people["bob"].email: BOB,
        "carol@example.edu": CAROL,
        "mallory@example.edu": MALLORY,
    }


def _uploaded(client: TestClient, email: str, code: str) -> None:
    csrf = sign_in(client, email)
    response = client.post(
        "/assignments/p1/submissions",
        data={"csrf_token": csrf},
        files={"file": ("solution.py", code.encode(), "text/x-python")},
        follow_redirects=False,
    )
    wait_graded(client, submission_id_of(response))


def _run_detector(client: TestClient, csrf: str) -> str:
    started = client.post(
        "/instructor/plagiarism/runs", data={"assignment_id": "p1", "csrf_token": csrf}, follow_redirects=False
    )
    assert started.status_code == 303
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        page = client.get("/instructor/plagiarism").text
        state = re.search(r'data-run="\d+" data-state="(\w+)"', page).group(1)
        if state in ("done", "failed"):
            assert state == "done", page
            return page
        time.sleep(0.5)
    raise AssertionError(f"the detector run did not finish within {RUN_TIMEOUT_S} s")


@pytest.mark.slow
def test_a_run_from_the_dashboard_opens_a_case_whose_confirmation_penalizes_both_students(
    client: TestClient, people, word_count_cohort: dict[str, str]
):
    for email, code in word_count_cohort.items():
        _uploaded(client, email, code)
    csrf = sign_in(client, people["teacher"].email)
    assert 'action="/instructor/plagiarism/runs"' in client.get("/instructor").text
    review = _run_detector(client, csrf)
    case_id = int(re.search(r'data-case="(\d+)"', review).group(1))
    assert "Alice Adams · Mallory Moss" in review and review.count("data-case=") == 1

    dashboard = client.get("/instructor").text
    assert f'href="/instructor/plagiarism/cases/{case_id}"' in dashboard
    assert "p1 flagged with mallory@example.edu" in dashboard and "p1 flagged with alice@example.edu" in dashboard

    case = client.get(f"/instructor/plagiarism/cases/{case_id}").text
    assert case.count('<mark class="token">') >= 2  # regions marked on both sides
    assert "Percentile in the cohort" in case and "Confirming costs both students 80 of the 80 points" in case

    refused = client.post(
        f"/instructor/plagiarism/cases/{case_id}/decision",
        data={"decision": "confirmed", "comment": "  ", "csrf_token": csrf},
    )
    assert refused.status_code == 400 and "needs a comment" in refused.text
    client.post(
        f"/instructor/plagiarism/cases/{case_id}/decision",
        data={"decision": "confirmed", "comment": "same tokenizer quirks", "csrf_token": csrf},
    )
    assert "confirmed" in client.get(f"/instructor/plagiarism/cases/{case_id}").text
    rows = {row["email"]: row for row in csv.DictReader(io.StringIO(client.get("/instructor/grades.csv").text))}
    assert [rows[email]["plagiarism_penalty"] for email in word_count_cohort] == ["p1", "", "", "p1"]
    assert rows["alice@example.edu"]["p1"] == "0"

    for email in word_count_cohort:
        sign_in(client, email)
        page = client.get("/assignments/p1").text
        penalized = email in ("alice@example.edu", "mallory@example.edu")
        assert ("data-penalty" in page) == penalized
        assert ("each lose 80 of its 80 points" in page and "same tokenizer quirks" in page) == penalized


def test_a_student_cannot_open_the_review_or_start_a_run(client: TestClient, people):
    csrf = sign_in(client, people["alice"].email)
    assert client.get("/instructor/plagiarism").status_code == 403
    started = client.post("/instructor/plagiarism/runs", data={"assignment_id": "p1", "csrf_token": csrf})
    assert started.status_code == 403


def test_the_assignment_page_states_the_individual_work_rule_and_the_penalty_to_both(client: TestClient, people):
    sign_in(client, people["alice"].email)
    page = client.get("/assignments/p1").text
    assert "Individual work" in page and "<strong>both</strong> students 100 %" in page
