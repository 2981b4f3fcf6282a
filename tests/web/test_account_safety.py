"""Account safety: sign-in throttling, sessions and tokens ended by a reinvite or a password change, the token list,
offline API docs, the app's own error page for malformed input, and upload errors back on the assignment page."""

from __future__ import annotations

import re
import statistics
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from grader.entrypoints.admin import admin
from grader.gradebook.passwords import hash_password
from grader.gradebook.sign_in_throttle import ThrottlePolicy
from grader.services.upload_rate import UploadRate
from grader.settings import Settings
from grader.web.options import WebOptions
from tests.web.conftest import PASSWORD, csrf_from, set_password_hash, sign_in

TIGHT = WebOptions(
    upload_rate=UploadRate(uploads=3, window=timedelta(minutes=10)),
    status_poll_ms=300,
    sign_in=ThrottlePolicy(free_failures_per_account=5, free_failures_per_address=8, first_wait=timedelta(seconds=30)),
)


def _try_sign_in(client: TestClient, email: str, password: str):
    client.cookies.clear()
    form = client.get("/login")
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_from(form.text)},
        follow_redirects=False,
    )


def _api_token(client: TestClient, csrf: str) -> str:
    page = client.post("/account/api-tokens", data={"label": "laptop", "csrf_token": csrf})
    return re.search(r"<code data-token>([^<]+)</code>", page.text).group(1)


@pytest.mark.parametrize("web_options", [TIGHT], indirect=False)
def test_sign_in_is_refused_with_a_wait_after_five_failures_even_with_the_right_password(client, people):
    for _ in range(5):
        assert _try_sign_in(client, people["alice"].email, "wrong password").status_code == 400
    refused = _try_sign_in(client, people["alice"].email, PASSWORD)
    assert refused.status_code == 429
    assert "Too many failed sign-ins" in refused.text
    assert 25 <= int(re.search(r"Try again in (\d+) seconds", refused.text).group(1)) <= 30
    assert _try_sign_in(client, people["bob"].email, PASSWORD).status_code == 303  # the account, not the address


@pytest.mark.parametrize("web_options", [TIGHT], indirect=False)
def test_failures_over_many_accounts_throttle_the_address(client, people):
    # 8 failures, none of the accounts over its own 5: the unknown e-mail must count too, or Bob gets in. One unknown
    # e-mail, not eight: each is checked against the stand-in hash at argon2's production cost.
    guesses = [people["alice"].email] * 4 + [people["teacher"].email] * 3 + ["guess@example.edu"]
    for email in guesses:
        assert _try_sign_in(client, email, "wrong password").status_code == 400
    refused = _try_sign_in(client, people["bob"].email, PASSWORD)
    assert refused.status_code == 429 and "from this network" in refused.text


@pytest.mark.parametrize("web_options", [TIGHT], indirect=False)
def test_a_right_password_before_the_limit_clears_the_accounts_count(client, people):
    for _ in range(4):
        _try_sign_in(client, people["alice"].email, "wrong password")
    assert _try_sign_in(client, people["alice"].email, PASSWORD).status_code == 303
    for _ in range(4):
        _try_sign_in(client, people["alice"].email, "wrong password")
    assert _try_sign_in(client, people["alice"].email, PASSWORD).status_code == 303


def _median_seconds(client: TestClient, email: str, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        form = client.get("/login")
        started = time.perf_counter()
        client.post("/login", data={"email": email, "password": "not it at all", "csrf_token": csrf_from(form.text)})
        times.append(time.perf_counter() - started)
    return statistics.median(times)


# Timing hash checks at argon2's production cost does not depend on the database.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_unknown_email_takes_as_long_as_a_known_one(client, people, settings: Settings):
    set_password_hash(settings, people["alice"], hash_password(PASSWORD))  # the production cost, as the stand-in's
    _median_seconds(client, "nobody@example.edu", runs=1)  # the stand-in hash is made once
    known = _median_seconds(client, people["alice"].email)
    unknown = _median_seconds(client, "nobody@example.edu")
    # a password hash check dominates both; without one, the unknown e-mail answered several times faster
    assert unknown > 0.6 * known, (known, unknown)


def test_reinvite_ends_open_sessions_and_revokes_api_tokens(client, people, settings: Settings):
    csrf = sign_in(client, people["alice"].email)
    token = _api_token(client, csrf)
    assert client.get("/api/assignments", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    env = {
        "GRADER_DATA_DIR": str(settings.data_dir),
        "GRADER_DATABASE_URL": settings.effective_database_url,
        "GRADER_COURSE_DIR": str(settings.course_dir),
    }
    result = CliRunner().invoke(admin, ["reinvite", people["alice"].email], env=env)
    assert result.exit_code == 0, result.output
    assert client.get("/assignments", follow_redirects=False).headers["location"] == "/login"
    assert client.get("/api/assignments", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_password_change_signs_out_elsewhere_and_revokes_tokens_but_keeps_this_browser(
    client, people, settings: Settings
):
    other_browser = TestClient(client.app)
    sign_in(other_browser, people["alice"].email)
    csrf = sign_in(client, people["alice"].email)
    token = _api_token(client, csrf)
    wrong = client.post(
        "/account/password",
        data={
            "current_password": "nope",
            "password": "a new long password",
            "password_again": "a new long password",
            "csrf_token": csrf,
        },
    )
    assert wrong.status_code == 400 and "current password is wrong" in wrong.text
    changed = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "password": "a new long password",
            "password_again": "a new long password",
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert changed.status_code == 303
    assert client.get("/account").status_code == 200
    assert other_browser.get("/account", follow_redirects=False).headers["location"] == "/login"
    assert client.get("/api/assignments", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert _try_sign_in(client, people["alice"].email, "a new long password").status_code == 303


def test_the_account_page_lists_tokens_and_revokes_one_of_them_only(client, people):
    csrf = sign_in(client, people["alice"].email)
    kept, revoked = _api_token(client, csrf), _api_token(client, csrf)
    page = client.get("/account").text
    token_ids = re.findall(r'data-token-id="(\d+)"', page)
    assert len(token_ids) == 2 and page.count("laptop") == 2
    answer = client.post(f"/account/api-tokens/{token_ids[1]}/revoke", data={"csrf_token": csrf})
    assert "The token is revoked" in answer.text and len(re.findall(r'data-token-id="', answer.text)) == 1
    assert client.get("/api/assignments", headers={"Authorization": f"Bearer {revoked}"}).status_code == 401
    assert client.get("/api/assignments", headers={"Authorization": f"Bearer {kept}"}).status_code == 200

    bob_csrf = sign_in(client, people["bob"].email)
    stolen = client.post(f"/account/api-tokens/{token_ids[0]}/revoke", data={"csrf_token": bob_csrf})
    assert stolen.status_code == 404
    assert client.get("/api/assignments", headers={"Authorization": f"Bearer {kept}"}).status_code == 200


def test_api_docs_load_every_asset_from_this_server(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text) + re.findall(r"url: '([^']+)'", page.text)
    assert assets and all(url.startswith("/") for url in assets), assets
    for url in assets:
        assert client.get(url).status_code == 200, url
    assert "cdn" not in page.text.lower()


def test_a_malformed_id_or_form_value_gets_the_apps_error_page(client, people):
    csrf = sign_in(client, people["teacher"].email)
    page = client.get("/submissions/abc")
    assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")
    assert "submission_id" in page.text and '"abc"' in page.text.replace("&#34;", '"')
    form = client.post(
        "/instructor/manual-scores",
        data={"student_id": people["alice"].id, "item": "defense", "points": "eighteen", "csrf_token": csrf},
    )
    assert form.status_code == 400 and form.headers["content-type"].startswith("text/html")
    assert "points" in form.text
    api = client.get("/api/submissions/abc", headers={"Authorization": "Bearer x"})
    assert api.headers["content-type"].startswith("application/json")


def test_a_refused_upload_comes_back_to_the_assignment_page_with_its_reason_and_the_form(client, people):
    csrf = sign_in(client, people["alice"].email)
    refused = client.post(
        "/assignments/p1/submissions",
        data={"csrf_token": csrf},
        files={"file": ("notes.txt", b"not python", "text/plain")},
    )
    assert refused.status_code == 400
    assert "data-upload-error" in refused.text and "Submit for grading" in refused.text
