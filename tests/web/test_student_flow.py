from __future__ import annotations

import hashlib
import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from grader import store
from grader.db.base import make_engine, make_session_factory
from grader.gradebook.accounts import RosterEntry
from grader.gradebook.repository import Gradebook
from grader.gradebook.submissions import NewSubmission
from grader.pipeline import ensure_in_store
from grader.settings import Settings
from tests.web.conftest import (
    PASSWORD,
    SOLUTIONS,
    csrf_from,
    sign_in,
    staging_left_over,
    submission_id_of,
    upload,
    wait_graded,
)


def test_invitation_link_sets_a_password_once_and_signs_the_student_in(client: TestClient, settings: Settings):
    engine = make_engine(settings.effective_database_url)
    with make_session_factory(engine).begin() as session:
        [(_, invite)] = Gradebook(session).accounts.import_roster([RosterEntry("carol@example.edu", "Carol", "s003")])
    engine.dispose()

    page = client.get(f"/invite/{invite}")
    assert "Welcome, Carol" in page.text
    accepted = client.post(
        f"/invite/{invite}",
        data={"password": PASSWORD, "password_again": PASSWORD, "csrf_token": csrf_from(page.text)},
        follow_redirects=False,
    )
    assert accepted.status_code == 303
    assert client.get("/assignments").status_code == 200
    assert client.get(f"/invite/{invite}").status_code == 404
    assert sign_in(client, "carol@example.edu")


def test_wrong_password_is_refused(client: TestClient, people):
    form = client.get("/login")
    response = client.post(
        "/login", data={"email": people["alice"].email, "password": "not it at all", "csrf_token": csrf_from(form.text)}
    )
    assert response.status_code == 400
    assert "wrong" in response.text
    assert client.get("/assignments", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    "web_options",
    [{}, {"in_memory_upload_bytes": 0}],
    indirect=True,
    ids=["kept in the gradebook", "written to the store"],
)
def test_upload_is_durable_before_it_is_acknowledged_then_graded_in_the_background(
    client: TestClient, settings: Settings, people, web_options
):
    csrf = sign_in(client, people["alice"].email)
    submission_id = submission_id_of(upload(client, csrf, "half.py"))
    uploaded = (SOLUTIONS / "half.py").read_bytes()

    engine = make_engine(settings.effective_database_url)
    with engine.connect() as connection:
        sha256 = connection.execute(
            sa.text("SELECT sha256 FROM submissions WHERE id = :id"), {"id": submission_id}
        ).scalar_one()
        assert (
            connection.execute(
                sa.text("SELECT count(*) FROM grading_jobs WHERE submission_id = :id"), {"id": submission_id}
            ).scalar_one()
            == 1
        )
        kept = connection.execute(
            sa.text("SELECT content FROM upload_contents WHERE sha256 = :sha"), {"sha": sha256}
        ).scalar_one_or_none()
    engine.dispose()
    stored = settings.store_dir / sha256[:2] / sha256
    if web_options.in_memory_upload_bytes:  # committed with its row; the grading process writes it to the store
        assert bytes(kept) == uploaded
    else:  # stored (and flushed) before its row committed
        assert kept is None
        assert (stored / "original" / "solution.py").read_bytes() == uploaded

    assert wait_graded(client, submission_id) == "graded"
    assert staging_left_over(settings) == []
    assert (stored / "tree" / "solution.py").is_file()
    assert (stored / "original" / "solution.py").read_bytes() == uploaded
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
    created = client.post(
        "/api/assignments/p1/submissions",
        headers=headers,
        files={"file": ("solution.py", b"def add(a, b):\n    return a + b\n", "text/x-python")},
    )
    assert created.status_code == 202, created.text
    submission = created.json()
    assert submission["status"] in {"queued", "running"}
    assert wait_graded(client, submission["id"], api_headers=headers) == "graded"
    result = client.get(f"/api/submissions/{submission['id']}", headers=headers).json()["result"]
    assert (result["shown_points"], result["shown_max"], result["hidden_max"], result["pending_manual_max"]) == (
        10,
        10,
        6,
        4,
    )
    assert [c["hidden"] for c in result["criteria"]] == [False, True, False]
    attempts = client.get("/api/assignments/p1/attempts", headers=headers).json()
    assert [a["counts"] for a in attempts] == [True]


def test_openapi_documents_the_json_api(client: TestClient):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert (
        "multipart/form-data" in paths["/api/assignments/{assignment_id}/submissions"]["post"]["requestBody"]["content"]
    )
    assert {"/api/submissions/{submission_id}", "/api/gradebook", "/api/regrades", "/api/grades.csv"} <= set(paths)
    assert not any(path.startswith("/instructor") for path in paths)


def test_a_bad_file_kept_in_memory_is_refused_with_its_reason_and_nothing_is_recorded(
    client: TestClient, settings: Settings, people
):
    csrf = sign_in(client, people["alice"].email)
    not_utf8 = client.post(
        "/assignments/p1/submissions",
        data={"csrf_token": csrf},
        files={"file": ("solution.py", "x = 'café'\n".encode("latin-1"), "text/x-python")},
    )
    assert not_utf8.status_code == 400 and "is not UTF-8 text" in not_utf8.text
    broken = client.post(
        "/assignments/p1/submissions",
        data={"csrf_token": csrf},
        files={"file": ("solution.ipynb", b'{"cells": [', "application/x-ipynb+json")},
    )
    assert broken.status_code == 400 and "is not a readable Jupyter notebook" in broken.text
    engine = make_engine(settings.effective_database_url)
    with engine.connect() as connection:
        for table in ("submissions", "upload_contents"):
            assert connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one() == 0
    engine.dispose()
    assert staging_left_over(settings) == [] and not any(settings.store_dir.glob("??/*"))


def test_an_upload_kept_in_the_gradebook_is_written_to_the_store_by_its_first_reader(
    settings: Settings, session_factory, people_in
):
    """What the grading process (and the instructor's file view) do first: the web app's commit holds the bytes, and a
    crash between that commit and grading loses nothing."""
    alice = people_in(settings)["alice"]
    content = (SOLUTIONS / "right.py").read_bytes()
    sha256 = hashlib.sha256(content).hexdigest()
    with session_factory.begin() as session:
        Gradebook(session).submissions.record_submissions(
            [NewSubmission(alice.id, "p1", sha256, "py", "mine.py", len(content), content)]
        )
    assert not store.is_stored(settings.store_dir, sha256)
    with session_factory() as session:
        ensure_in_store(settings, Gradebook(session), sha256, "p1")
        ensure_in_store(settings, Gradebook(session), sha256, "p1")  # already there: nothing to do
    stored = store.get(settings.store_dir, sha256)
    assert (stored.original / "mine.py").read_bytes() == content
    assert (stored.tree / "solution.py").read_bytes() == content
    assert (stored.kind, stored.entry_kind) == ("py", "module")
    assert staging_left_over(settings) == []


def test_the_result_page_lists_the_notebook_cells_that_did_not_simply_run(client: TestClient, people, tmp_path):
    import nbformat

    notebook = nbformat.v4.new_notebook()
    code = (SOLUTIONS / "right.py").read_text()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Sums"),
        nbformat.v4.new_code_cell("!pip install numpy"),
        nbformat.v4.new_code_cell(code),
        nbformat.v4.new_code_cell("raise RuntimeError('scratch')"),
    ]
    csrf = sign_in(client, people["alice"].email)
    response = client.post(
        "/assignments/p1/submissions",
        data={"csrf_token": csrf},
        files={"file": ("solution.ipynb", nbformat.writes(notebook).encode(), "application/x-ipynb+json")},
        follow_redirects=False,
    )
    submission_id = submission_id_of(response)
    assert wait_graded(client, submission_id) == "graded"
    page = client.get(f"/submissions/{submission_id}").text
    table = page[page.index("data-notebook-cells") :]
    assert "code cell 1" in table and "<code>!pip install numpy</code>" in table and "skipped" in table
    assert "code cell 3" in table and "RuntimeError: scratch" in table and "code cell 2" not in table
