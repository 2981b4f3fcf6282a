from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from grader.db.base import make_engine, make_session_factory
from grader.gradebook.repository import Gradebook, RosterEntry
from grader.settings import Settings
from tests.web.conftest import (
    PASSWORD, SOLUTIONS, csrf_from, sign_in, submission_id_of, upload, wait_graded,
)


def test_invitation_link_sets_a_password_once_and_signs_the_student_in(client: TestClient, settings: Settings):
    engine = make_engine(settings.effective_database_url)
    with make_session_factory(engine).begin() as session:
        [(_, invite)] = Gradebook(session).import_roster([RosterEntry("carol@example.edu", "Carol", "s003")])
    engine.dispose()

    page = client.get(f"/invite/{invite}")
    assert "Welcome, Carol" in page.text
    accepted = client.post(f"/invite/{invite}", data={"password": PASSWORD, "password_again": PASSWORD,
                                                      "csrf_token": csrf_from(page.text)}, follow_redirects=False)
    assert accepted.status_code == 303
    assert client.get("/assignments").status_code == 200
    assert client.get(f"/invite/{invite}").status_code == 404
    assert sign_in(client, "carol@example.edu")


def test_wrong_password_is_refused(client: TestClient, people):
    form = client.get("/login")
    response = client.post("/login", data={"email": people["alice"].email, "password": "not it at all",
                                           "csrf_token": csrf_from(form.text)})
    assert response.status_code == 400
    assert "wrong" in response.text
    assert client.get("/assignments", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("web_options", [{}, {"inline_store_bytes": 0}], indirect=True,
                         ids=["stored on the event loop", "stored on a worker thread"])
def test_upload_is_stored_before_it_is_acknowledged_then_graded_in_the_background(
        client: TestClient, settings: Settings, people):
    csrf = sign_in(client, people["alice"].email)
    submission_id = submission_id_of(upload(client, csrf, "half.py"))

    engine = make_engine(settings.effective_database_url)
    with engine.connect() as connection:
        sha256 = connection.execute(sa.text("SELECT sha256 FROM submissions WHERE id = :id"),
                                    {"id": submission_id}).scalar_one()
        assert connection.execute(sa.text("SELECT count(*) FROM grading_jobs WHERE submission_id = :id"),
                                  {"id": submission_id}).scalar_one() == 1
    engine.dispose()
    stored = settings.store_dir / sha256[:2] / sha256
    assert (stored / "tree" / "solution.py").is_file()
    assert (stored / "original" / "solution.py").read_bytes() == (SOLUTIONS / "half.py").read_bytes()
    assert not any((settings.store_dir / "tmp").iterdir())  # the upload was staged in place, and nothing is left over

    assert wait_graded(client, submission_id) == "graded"
    page = client.get(f"/submissions/{submission_id}").text
    assert re.search(r"<strong data-score>10 / 10</strong>", page)  # only what is graded and visible is counted
    assert "6 points hidden until the deadline (2099-01-01 00:00 UTC)" in page
    assert "4 points an instructor enters after review" in page
    assert "Hidden until the deadline." in page
    assert "mean is right" not in page and "must return the arithmetic mean" not in page


def test_history_marks_the_latest_attempt_before_the_deadline_as_counting(client: TestClient, people):
    csrf = sign_in(client, people["alice"].email)
    first = submission_id_of(upload(client, csrf, "half.py"))
    second = submission_id_of(upload(client, csrf, "right.py"))
    wait_graded(client, first)
    wait_graded(client, second)

    page = client.get("/assignments/p1").text
    rows = re.findall(r'<tr class="(counting)?">\s*<td><a href="/submissions/(\d+)">', page)
    assert rows == [("counting", str(second)), ("", str(first))]


def test_json_api_submits_and_reads_results_with_a_bearer_token(client: TestClient, people):
    csrf = sign_in(client, people["bob"].email)
    token_page = client.post("/account/api-tokens", data={"label": "lms", "csrf_token": csrf}).text
    token = re.search(r"<code data-token>([^<]+)</code>", token_page).group(1)
    client.cookies.clear()
    headers = {"Authorization": f"Bearer {token}"}

    assert [a["id"] for a in client.get("/api/assignments", headers=headers).json()] == ["p1"]
    created = client.post("/api/assignments/p1/submissions", headers=headers,
                          files={"file": ("solution.py", b"def add(a, b):\n    return a + b\n", "text/x-python")})
    assert created.status_code == 202, created.text
    submission = created.json()
    assert submission["status"] in {"queued", "running"}
    assert wait_graded(client, submission["id"], api_headers=headers) == "graded"
    result = client.get(f"/api/submissions/{submission['id']}", headers=headers).json()["result"]
    assert (result["shown_points"], result["shown_max"], result["hidden_max"], result["pending_manual_max"]) == \
        (10, 10, 6, 4)
    assert [c["hidden"] for c in result["criteria"]] == [False, True, False]
    attempts = client.get("/api/assignments/p1/attempts", headers=headers).json()
    assert [a["counts"] for a in attempts] == [True]


def test_openapi_documents_the_json_api(client: TestClient):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert "multipart/form-data" in paths["/api/assignments/{assignment_id}/submissions"]["post"]["requestBody"]["content"]
    assert {"/api/submissions/{submission_id}", "/api/gradebook", "/api/regrades", "/api/grades.csv"} <= set(paths)
    assert not any(path.startswith("/instructor") for path in paths)
