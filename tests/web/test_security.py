from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from grader.db.base import utcnow
from grader.db.models import WebSession
from grader.settings import Settings
from grader.web import api, pages
from tests.web.conftest import (
    PASSWORD,
    csrf_from,
    sign_in,
    sqlite_url,
    staging_left_over,
    submission_id_of,
    upload,
    wait_graded,
)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Access rules do not depend on the database: these run on SQLite only."""
    return sqlite_url(tmp_path)


STUDENT_SUBMISSION_ROUTES = ["/submissions/{id}", "/submissions/{id}/status"]
API_SUBMISSION_ROUTES = ["/api/submissions/{id}"]
INSTRUCTOR_API_GETS = ["/api/gradebook", "/api/grades.csv", "/api/regrades/1"]
INSTRUCTOR_API_POSTS = ["/api/manual-scores", "/api/regrades", "/api/regrades/1/publish"]


def _routes(client: TestClient) -> list[APIRoute]:
    """Every page and API route the app serves (read from the routers it includes)."""
    return [route for router in (pages.router, api.router) for route in router.routes if isinstance(route, APIRoute)]


def _fill(path: str, **values: object) -> str:
    """A concrete URL for a route template such as /x/{submission_id}/files/{relative:path}."""
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda match: str(values[match.group(1)]), path)


def _api_token(client: TestClient, csrf: str) -> str:
    page = client.post("/account/api-tokens", data={"label": "t", "csrf_token": csrf}).text
    return re.search(r"<code data-token>([^<]+)</code>", page).group(1)


def test_every_route_that_names_a_submission_is_covered_here(client: TestClient):
    named = {
        route.path.replace("{submission_id}", "{id}") for route in _routes(client) if "{submission_id}" in route.path
    }
    instructor_only = {path for path in named if path.startswith("/instructor/")}
    assert named - instructor_only == set(STUDENT_SUBMISSION_ROUTES + API_SUBMISSION_ROUTES)


def test_a_student_cannot_read_another_students_submission_on_any_route(client: TestClient, people):
    alice_csrf = sign_in(client, people["alice"].email)
    submission_id = submission_id_of(upload(client, alice_csrf, "right.py"))
    wait_graded(client, submission_id)
    assert client.get(f"/submissions/{submission_id}").status_code == 200

    bob_csrf = sign_in(client, people["bob"].email)
    for path in STUDENT_SUBMISSION_ROUTES:
        response = client.get(path.format(id=submission_id))
        assert response.status_code == 404, path
        assert "alice" not in response.text.lower() and "add is right" not in response.text
    for path in [p for p in (r.path for r in _routes(client)) if p.startswith("/instructor/submissions/")]:
        response = client.get(_fill(path, submission_id=submission_id, relative="solution.py"))
        assert response.status_code == 403, path
    headers = {"Authorization": f"Bearer {_api_token(client, bob_csrf)}"}
    client.cookies.clear()
    for path in API_SUBMISSION_ROUTES:
        assert client.get(path.format(id=submission_id), headers=headers).status_code == 404, path


def test_every_instructor_route_refuses_students(client: TestClient, people):
    csrf = sign_in(client, people["alice"].email)
    instructor_routes = [route for route in _routes(client) if route.path.startswith("/instructor")]
    assert len(instructor_routes) >= 8
    for route in instructor_routes:
        path = _fill(route.path, submission_id=1, student_id=people["bob"].id, batch_id=1, relative="solution.py")
        for method in route.methods - {"HEAD"}:
            response = client.request(
                method,
                path,
                data={
                    "csrf_token": csrf,
                    "assignment_id": "p1",
                    "item": "defense",
                    "points": "20",
                    "student_id": str(people["bob"].id),
                },
            )
            assert response.status_code == 403, f"{method} {path}"
    headers = {"Authorization": f"Bearer {_api_token(client, csrf)}"}
    client.cookies.clear()
    for path in INSTRUCTOR_API_GETS:
        assert client.get(path, headers=headers).status_code == 403, path
    body = {"student_id": people["bob"].id, "assignment_id": "p1", "item": "defense", "points": 20}
    for path in INSTRUCTOR_API_POSTS:
        assert client.post(path, headers=headers, json=body).status_code == 403, path


def test_signed_out_visitors_are_sent_to_sign_in_and_the_api_answers_401(client: TestClient):
    for path in ["/assignments", "/submissions/1", "/instructor", "/instructor/grades.csv"]:
        response = client.get(path, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, "/login"), path
    response = client.get("/api/assignments", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_an_expired_session_signs_nobody_in(client: TestClient, people, settings: Settings):
    sign_in(client, people["alice"].email)
    assert client.get("/assignments", follow_redirects=False).status_code == 200
    with sa.create_engine(settings.effective_database_url).begin() as connection:
        connection.execute(sa.update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = client.get("/assignments", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login")


def test_every_form_post_without_the_csrf_token_is_refused(client: TestClient, people, settings: Settings):
    sign_in(client, people["teacher"].email)  # signed in, so a refusal can only be about the token
    posts = [
        ("/logout", {}),
        ("/account/api-tokens", {"label": "x"}),
        ("/instructor/manual-scores", {"student_id": people["bob"].id, "item": "defense", "points": 5}),
        ("/instructor/regrades", {"assignment_id": "p1"}),
        ("/instructor/regrades/1/publish", {}),
    ]
    for path, data in posts:
        for token in (None, "forged"):
            form = dict(data, **({"csrf_token": token} if token else {}))
            assert client.post(path, data=form, follow_redirects=False).status_code == 403, (path, token)
    sign_in(client, people["alice"].email)
    response = client.post(
        "/assignments/p1/submissions", data={"csrf_token": "forged"}, files={"file": ("solution.py", b"x = 1\n")}
    )
    assert response.status_code == 403
    with sa.create_engine(settings.effective_database_url).connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM manual_scores")).scalar_one() == 0
        assert connection.execute(sa.text("SELECT count(*) FROM submissions")).scalar_one() == 0


def test_sign_in_form_needs_its_csrf_token(client: TestClient, people):
    client.get("/login")
    response = client.post("/login", data={"email": people["alice"].email, "password": PASSWORD})
    assert response.status_code == 403


def test_session_cookie_is_httponly_samesite_and_secure_over_https(settings: Settings, web_options, people):
    from grader.web.app import create_app

    for base_url, secure in [("http://testserver", False), ("https://testserver", True)]:
        with TestClient(create_app(settings, web_options), base_url=base_url) as client:
            form = client.get("/login")
            response = client.post(
                "/login",
                data={"email": people["alice"].email, "password": PASSWORD, "csrf_token": csrf_from(form.text)},
                follow_redirects=False,
            )
            cookie = response.headers["set-cookie"].lower()
            assert cookie.startswith("grader_session=")
            assert "httponly" in cookie and "samesite=lax" in cookie
            assert ("secure" in cookie) is secure


def test_an_upload_over_the_limit_is_cut_off_while_streaming_and_nothing_is_stored(
    client: TestClient, people, settings: Settings
):
    csrf = sign_in(client, people["alice"].email)
    boundary = "limitboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{csrf}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="solution.py"\r\n'
        "Content-Type: text/x-python\r\n\r\n"
    ).encode()
    sent = []

    def body():  # no Content-Length: the server only learns the size by reading
        yield head
        for _ in range(64):
            sent.append(1)
            yield b"#" * 16384 + b"\n"
        yield f"\r\n--{boundary}--\r\n".encode()

    response = client.post(
        "/assignments/p1/submissions",
        content=body(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 413
    assert "limited to" in response.text
    declared = client.post(
        "/assignments/p1/submissions",
        content=b"x" * 10,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(10 * 1024 * 1024)},
    )
    assert declared.status_code == 413
    with sa.create_engine(settings.effective_database_url).connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM submissions")).scalar_one() == 0
    assert not any(settings.store_dir.glob("??/*")) and staging_left_over(settings) == []


def test_uploads_beyond_the_per_student_rate_are_refused_with_429(client: TestClient, people, web_options):
    csrf = sign_in(client, people["alice"].email)
    for _ in range(web_options.upload_rate.uploads):
        submission_id_of(upload(client, csrf, "half.py"))
    refused = upload(client, csrf, "half.py")
    assert refused.status_code == 429
    assert "at most 3 uploads" in refused.text
    other = sign_in(client, people["bob"].email)
    submission_id_of(upload(client, other, "half.py"))


def test_a_rejected_upload_says_why_and_leaves_nothing_in_the_store(client: TestClient, people, settings: Settings):
    csrf = sign_in(client, people["alice"].email)
    response = client.post(
        "/assignments/p1/submissions",
        data={"csrf_token": csrf},
        files={"file": ("solution.exe", b"MZ\x90\x00", "application/octet-stream")},
    )
    assert response.status_code == 400
    assert '<p class="alert" data-upload-error>That did not work: ' in response.text  # on the assignment page
    assert not any(settings.store_dir.glob("??/*")) and staging_left_over(settings) == []


def test_instructor_file_download_only_serves_files_of_the_stored_tree(client: TestClient, people):
    csrf = sign_in(client, people["alice"].email)
    submission_id = submission_id_of(upload(client, csrf, "half.py"))
    sign_in(client, people["teacher"].email)
    ok = client.get(f"/instructor/submissions/{submission_id}/files/solution.py")
    assert ok.status_code == 200 and "def add" in ok.text
    assert ok.headers["content-type"].startswith("text/plain")
    assert ok.headers["content-disposition"].startswith("attachment")
    for sneaky in ["../meta.json", "..%2F..%2Fgradebook.sqlite3", "/etc/passwd"]:
        assert client.get(f"/instructor/submissions/{submission_id}/files/{sneaky}").status_code == 404, sneaky
