"""A regrade superseded by a later published regrade of the same submissions is marked and cannot be published, from
the page or the API; instructors see every batch in a list. Regrade results are written to the gradebook as a
finished grading leaves them (no sandbox)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from grader.db.base import make_engine, make_session_factory, utcnow
from grader.gradebook.regrades import superseded_by
from grader.gradebook.repository import Gradebook
from grader.queue.claims import JobClaims
from grader.settings import Settings
from tests.web.conftest import sign_in
from tests.web.test_course_dates import _api_headers, _graded_attempt, _result


def _finished_regrade(settings: Settings, submission_id: int, instructor_email: str, score: float) -> int:
    engine = make_engine(settings.effective_database_url)
    with make_session_factory(engine).begin() as session:
        gradebook = Gradebook(session)
        batch, job_ids = gradebook.regrades.start(
            "p1", [gradebook.submissions.submission(submission_id)], gradebook.accounts.user_by_email(instructor_email)
        )
        claims = JobClaims(session)
        for job_id in job_ids:
            claims.finish(claims.claim(job_id), _result(score), None)
        batch_id = batch.id
    engine.dispose()
    return batch_id


def test_a_batch_is_superseded_only_by_a_later_published_batch_over_the_same_submissions():
    regraded = {1: frozenset({10, 11}), 2: frozenset({11}), 3: frozenset({12}), 4: frozenset({10})}
    published = {1: None, 2: utcnow(), 3: utcnow(), 4: None}
    assert superseded_by(1, regraded, published) == 2
    assert superseded_by(4, regraded, published) is None  # the later one is not published
    assert superseded_by(2, regraded, published) is None  # published itself
    assert superseded_by(3, {**regraded, 5: frozenset({12})}, {**published, 3: None, 5: None}) is None


def test_an_older_regrade_cannot_be_published_after_a_newer_one(client: TestClient, people, settings: Settings):
    submission_id = _graded_attempt(settings, people["alice"].id, 10.0, utcnow() - timedelta(hours=1))
    older = _finished_regrade(settings, submission_id, people["teacher"].email, 12.0)
    newer = _finished_regrade(settings, submission_id, people["teacher"].email, 14.0)
    csrf = sign_in(client, people["teacher"].email)
    assert (
        client.post(
            f"/instructor/regrades/{newer}/publish", data={"csrf_token": csrf}, follow_redirects=False
        ).status_code
        == 303
    )

    refused = client.post(f"/instructor/regrades/{older}/publish", data={"csrf_token": csrf})
    assert refused.status_code == 400 and f"superseded: regrade #{newer}" in refused.text
    api_refused = client.post(f"/api/regrades/{older}/publish", headers=_api_headers(settings, people["teacher"].email))
    assert api_refused.status_code == 400
    page = client.get(f"/instructor/regrades/{older}").text
    assert "data-superseded" in page and "/publish" not in page
    listing = client.get("/instructor/regrades").text
    assert f'data-batch="{older}" data-state="superseded"' in listing
    assert f'data-batch="{newer}" data-state="published"' in listing
    rows = client.get("/api/gradebook", headers=_api_headers(settings, people["teacher"].email)).json()
    assert next(row for row in rows if row["email"] == "alice@example.edu")["projects"]["p1"] == 14 / 20 * 80
