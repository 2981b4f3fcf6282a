from __future__ import annotations

import csv
import io
import re
import time

from fastapi.testclient import TestClient

from grader.db.base import make_engine, make_session_factory
from grader.plagiarism.review import decide, flag_pairs
from grader.settings import Settings
from grader.web.app import create_app
from tests.web.conftest import GRADING_TIMEOUT_S, sign_in, submission_id_of, upload, wait_graded


def _graded_upload(client: TestClient, email: str, solution: str) -> int:
    csrf = sign_in(client, email)
    submission_id = submission_id_of(upload(client, csrf, solution))
    assert wait_graded(client, submission_id) == "graded"
    return submission_id


def _enter(
    client: TestClient, csrf: str, student_id: int, item: str, points: float, assignment_id: str = "", note: str = ""
) -> None:
    response = client.post(
        "/instructor/manual-scores",
        follow_redirects=False,
        data={
            "csrf_token": csrf,
            "student_id": student_id,
            "assignment_id": assignment_id,
            "item": item,
            "points": points,
            "note": note,
        },
    )
    assert response.status_code == 303, response.text


def _csv_rows(client: TestClient) -> dict[str, dict[str, str]]:
    response = client.get("/instructor/grades.csv")
    assert response.headers["content-type"].startswith("text/csv")
    return {row["email"]: row for row in csv.DictReader(io.StringIO(response.text))}


def test_dashboard_manual_scores_with_audit_trail_and_csv_totals(client: TestClient, people):
    alice_submission = _graded_upload(client, people["alice"].email, "right.py")  # 16 automated of 20
    _graded_upload(client, people["bob"].email, "half.py")  # 10 automated of 20
    csrf = sign_in(client, people["teacher"].email)

    _enter(client, csrf, people["alice"].id, "style", 4, assignment_id="p1")
    _enter(client, csrf, people["alice"].id, "defense", 10, note="first sitting")
    _enter(client, csrf, people["alice"].id, "defense", 15, note="corrected after review")
    _enter(client, csrf, people["bob"].id, "defense", 20)
    _enter(client, csrf, people["bob"].id, "retake_questions", 2)

    dashboard = client.get("/instructor").text
    assert f'href="/instructor/submissions/{alice_submission}"' in dashboard
    rows = _csv_rows(client)
    # course.yaml weighs p1 at 80 points: alice 20/20 -> 80 (+15 defense), bob 10/20 -> 40 (+20 defense)
    assert {k: rows["alice@example.edu"][k] for k in ("p1", "homework", "defense", "total", "passed")} == {
        "p1": "80",
        "homework": "80",
        "defense": "15",
        "total": "95",
        "passed": "yes",
    }
    assert {
        k: rows["bob@example.edu"][k] for k in ("p1", "homework", "defense", "total", "passed", "retake_eligible")
    } == {"p1": "40", "homework": "40", "defense": "20", "total": "60", "passed": "no", "retake_eligible": "no"}

    student_page = client.get(f"/instructor/students/{people['alice'].id}").text
    audit = student_page[student_page.index("Audit trail") :]
    assert audit.count("teacher@example.edu") == 3
    assert "first sitting" in audit and "corrected after review" in audit

    too_many = client.post(
        "/instructor/manual-scores",
        data={"csrf_token": csrf, "student_id": people["bob"].id, "assignment_id": "", "item": "defense", "points": 21},
    )
    assert too_many.status_code == 400


def test_instructor_sees_logs_files_and_hidden_criteria_of_any_submission(client: TestClient, people):
    submission_id = _graded_upload(client, people["alice"].email, "half.py")
    sign_in(client, people["teacher"].email)
    page = client.get(f"/instructor/submissions/{submission_id}").text
    assert f"/instructor/submissions/{submission_id}/files/solution.py" in page
    assert "mean(values) must return the arithmetic mean." in page  # hidden from the student until the deadline
    assert "stdout" in page and "stderr" in page


def _wait_regrade(client: TestClient, batch_id: int) -> str:
    deadline = time.monotonic() + GRADING_TIMEOUT_S
    while time.monotonic() < deadline:
        page = client.get(f"/instructor/regrades/{batch_id}").text
        if "Publish these scores" in page or "Published." in page:
            return page
        time.sleep(0.3)
    raise AssertionError("regrade did not finish")


def test_regrade_previews_old_and_new_points_and_publishes_only_on_confirmation(
    client: TestClient, people, settings: Settings
):
    _graded_upload(client, people["alice"].email, "half.py")
    judge = settings.course_dir / "assignments" / "p1" / "hidden_tests" / "judge" / "judge.py"
    judge.write_text(judge.read_text().replace("abs(m - e) < 1e-9", "True"))  # a judge bug fixed in favour of students

    csrf = sign_in(client, people["teacher"].email)
    started = client.post(
        "/instructor/regrades", data={"csrf_token": csrf, "assignment_id": "p1"}, follow_redirects=False
    )
    batch_id = int(started.headers["location"].rsplit("/", 1)[1])
    preview = _wait_regrade(client, batch_id)
    assert re.search(r"<td>alice@example.edu</td><td>40</td><td>64</td>", preview), preview
    assert _csv_rows(client)["alice@example.edu"]["p1"] == "40"

    published = client.post(f"/instructor/regrades/{batch_id}/publish", data={"csrf_token": csrf})
    assert "Published." in published.text
    assert _csv_rows(client)["alice@example.edu"]["p1"] == "64"
    again = client.post(f"/instructor/regrades/{batch_id}/publish", data={"csrf_token": csrf})
    assert again.status_code == 400


def test_a_confirmed_plagiarism_case_penalizes_both_students(client: TestClient, people, settings: Settings):
    _graded_upload(client, people["alice"].email, "right.py")
    _graded_upload(client, people["bob"].email, "right.py")
    engine = make_engine(settings.effective_database_url)
    with make_session_factory(engine).begin() as session:  # cases name students by e-mail or student number
        [case] = flag_pairs(session, "p1", [{"a": "alice@example.edu", "b": "s002.py", "score": 0.97}], threshold=0.5)
        decide(session, case.id, "confirmed", "same code, same typos", "teacher@example.edu")
    engine.dispose()
    sign_in(client, people["teacher"].email)
    rows = _csv_rows(client)
    assert rows["alice@example.edu"]["p1"] == rows["bob@example.edu"]["p1"] == "0"
    dashboard = client.get("/instructor").text
    assert "p1 confirmed with s002 (0.97)" in dashboard and "p1 confirmed with alice@example.edu (0.97)" in dashboard


def test_instructor_json_api_enters_scores_and_reads_the_gradebook(client: TestClient, people):
    csrf = sign_in(client, people["teacher"].email)
    token = re.search(
        r"<code data-token>([^<]+)</code>",
        client.post("/account/api-tokens", data={"label": "t", "csrf_token": csrf}).text,
    ).group(1)
    client.cookies.clear()
    headers = {"Authorization": f"Bearer {token}"}
    entered = client.post(
        "/api/manual-scores", headers=headers, json={"student_id": people["bob"].id, "item": "defense", "points": 18}
    )
    assert entered.status_code == 201
    standings = {row["email"]: row for row in client.get("/api/gradebook", headers=headers).json()}
    assert (standings["bob@example.edu"]["defense"], standings["bob@example.edu"]["total"]) == (18, 18)
    assert standings["alice@example.edu"]["projects"] == {"p1": 0}


def test_with_a_final_project_the_defense_is_its_manual_criteria(settings: Settings, web_options, people_in):
    (settings.course_dir / "course.yaml").write_text("final_project: p1\nproject_points: {p1: 20}\n")
    with TestClient(create_app(settings, web_options)) as client:
        people = people_in(settings)
        submission_id = _graded_upload(client, people["alice"].email, "right.py")  # 16 automated of 20
        csrf = sign_in(client, people["teacher"].email)
        student_page = client.get(f"/instructor/students/{people['alice'].id}").text
        assert "p1 · style" in student_page and "course · defense" not in student_page
        refused = client.post(
            "/instructor/manual-scores",
            data={
                "csrf_token": csrf,
                "student_id": people["alice"].id,
                "assignment_id": "",
                "item": "defense",
                "points": 5,
            },
        )
        assert refused.status_code == 400
        _enter(client, csrf, people["alice"].id, "style", 3, assignment_id="p1")
        row = _csv_rows(client)["alice@example.edu"]
        assert (row["p1"], row["homework"], row["defense"], row["total"]) == ("19", "0", "19", "19")
        assert f"/instructor/submissions/{submission_id}" in client.get("/instructor").text
