"""Defense entry on one page: every manual criterion of a project in one form with the running total; the note
reaches the student, and "not graded automatically yet" goes once points are entered."""

from __future__ import annotations

from fastapi.testclient import TestClient

from grader.scoring import MANUAL_PENDING
from tests.web.conftest import sign_in, submission_id_of, upload, wait_graded


def _project_form(client: TestClient, student_id: int, csrf: str, **fields: str):
    return client.post(
        f"/instructor/students/{student_id}/projects/p1/manual-scores",
        data={"csrf_token": csrf, **fields},
        follow_redirects=False,
    )


def test_a_projects_manual_criteria_are_entered_in_one_form_and_the_note_reaches_the_student(
    client: TestClient, people
):
    csrf = sign_in(client, people["alice"].email)
    submission_id = submission_id_of(upload(client, csrf, "right.py"))
    assert wait_graded(client, submission_id) == "graded"
    assert "Entered by an instructor later." in client.get(f"/submissions/{submission_id}").text

    teacher_csrf = sign_in(client, people["teacher"].email)
    page = client.get(f"/instructor/students/{people['alice'].id}").text
    form = page[page.index('data-project-manual="p1"') :]
    assert 'name="points:style"' in form and 'name="note:style"' in form
    assert "Running total: <strong data-running-total>0</strong>" in form
    saved = _project_form(
        client,
        people["alice"].id,
        teacher_csrf,
        **{"points:style": "3.5", "note:style": "readable, but long functions"},
    )
    assert saved.status_code == 303
    page = client.get(f"/instructor/students/{people['alice'].id}").text
    assert "Running total: <strong data-running-total>3.5</strong>" in page
    assert 'name="points:style" min="0" max="4.0" step="0.5" value="3.5"' in page

    sign_in(client, people["alice"].email)
    result = client.get(f"/submissions/{submission_id}").text
    assert "readable, but long functions" in result and MANUAL_PENDING not in result  # the grader's placeholder
    assert "3.5 / 4" in result


def test_a_wrong_value_in_the_project_form_enters_nothing(client: TestClient, people):
    csrf = sign_in(client, people["teacher"].email)
    too_many = _project_form(client, people["bob"].id, csrf, **{"points:style": "5"})
    assert too_many.status_code == 400 and "between 0 and 4" in too_many.text
    empty = _project_form(client, people["bob"].id, csrf)
    assert empty.status_code == 400 and "at least one criterion" in empty.text
    assert "No manual entries." in client.get(f"/instructor/students/{people['bob'].id}").text
