"""Due dates from the course calendar, the late policy, extensions, manual points without an attempt, the upload's
confirmation past a date that matters, and stale regrades: the rules alone, then through the web app and the API
(no sandbox: attempts are written to the gradebook as a grading would leave them)."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from grader import course_files
from grader.db.base import make_engine, make_session_factory, utcnow
from grader.db.models import Submission
from grader.entrypoints.admin import admin
from grader.gradebook.compute import Attempt, counting_attempt, project_score
from grader.gradebook.repository import Gradebook
from grader.gradebook.rules import CourseRules, CourseRulesError, LatePolicy, ProjectDates, lateness, load_course_rules
from grader.gradebook.submissions import NewSubmission
from grader.queue.claims import JobClaims
from grader.settings import Settings
from grader.web.app import create_app
from tests.web.conftest import SOLUTIONS, sign_in, submission_id_of, upload

REPO = Path(__file__).resolve().parents[2]
DUE = datetime(2027, 3, 22, 10, 0, tzinfo=timezone.utc)
END = datetime(2027, 5, 31, 23, 59, tzinfo=timezone.utc)
DATES = ProjectDates(due=DUE, course_end=END, hidden_shown_from=END)


def _attempt(n: int, at: datetime, score: float = 16.0) -> Attempt:
    return Attempt(n, at, "graded", score, 20.0)


# --- the rules alone -------------------------------------------------------------------------------------------------
def test_manual_points_count_for_a_student_with_no_attempt():
    rules = CourseRules(final_project="p5")
    assert project_score("p5", None, 17.0, False, rules).points == 17.0  # examined at the defense, never uploaded
    assert project_score("p5", None, 17.0, True, rules).points == 0.0  # a confirmed plagiarism case still applies


def test_each_project_is_due_at_its_lesson_of_the_course_calendar():
    settings = Settings(course_dir=REPO, data_dir=REPO / ".unused")
    rules = load_course_rules(settings)
    due = {a.id: rules.due_date(a) for a in course_files.list_assignments(settings)}
    assert due == {
        "p1": rules.calendar[7],
        "p2": rules.calendar[7],
        "p3": rules.calendar[12],
        "p4": rules.calendar[12],
        "p5": rules.calendar[16],
    }
    assert all(date < rules.course_end for date in due.values())


def test_a_due_lesson_missing_from_the_calendar_is_refused_with_what_to_do():
    settings = Settings(course_dir=REPO, data_dir=REPO / ".unused")
    p1 = course_files.load_assignment(settings, "p1")
    rules = CourseRules(course_end=END, calendar={1: DUE})
    with pytest.raises(CourseRulesError, match="lesson 7, which the calendar in course.yaml does not list"):
        rules.due_date(p1)


def test_by_default_late_work_counts_until_the_course_end_marked_after_the_due_date():
    rules = CourseRules(course_end=END)
    late = lateness(DUE + timedelta(days=2, hours=1), DATES, rules)
    assert (late.counts, late.label, late.days_late) == (True, "after the due date", 3)
    attempts = [_attempt(1, DUE - timedelta(days=1), 18), _attempt(2, DUE + timedelta(days=3), 12)]
    assert counting_attempt(attempts, DATES, rules).submission_id == 2
    after_end = lateness(END + timedelta(minutes=1), DATES, rules)
    assert (after_end.counts, after_end.describe()) == (False, "Handed in after the course end: it does not count.")
    assert counting_attempt([_attempt(3, END + timedelta(minutes=1))], DATES, rules) is None


def test_a_penalty_policy_without_its_share_is_refused():
    with pytest.raises(ValueError, match="needs penalty_per_day"):
        LatePolicy(after_due_date="penalty_per_day")


def test_a_penalty_per_day_comes_off_the_project_points():
    rules = CourseRules(course_end=END, late_policy=LatePolicy(after_due_date="penalty_per_day", penalty_per_day=0.1))
    late = lateness(DUE + timedelta(days=1, minutes=1), DATES, rules)  # two days begun
    assert late.penalty_share == pytest.approx(0.2)
    assert project_score("p1", _attempt(1, DUE), 0.0, False, rules, late).points == 12.0  # 16 of 20 -> 16, less 4


def test_the_best_policy_compares_attempts_after_their_late_penalty():
    rules = CourseRules(
        course_end=END,
        counting_attempt="best_before_deadline",
        late_policy=LatePolicy(after_due_date="penalty_per_day", penalty_per_day=0.25),
    )
    attempts = [_attempt(1, DUE - timedelta(days=1), 14), _attempt(2, DUE + timedelta(days=2), 20)]  # 20 - 50%
    assert counting_attempt(attempts, DATES, rules).submission_id == 1


def test_late_work_not_counted_leaves_the_attempt_before_the_due_date():
    rules = CourseRules(course_end=END, late_policy=LatePolicy(after_due_date="not_counted"))
    attempts = [_attempt(1, DUE - timedelta(days=1), 10), _attempt(2, DUE + timedelta(hours=1), 20)]
    assert counting_attempt(attempts, DATES, rules).submission_id == 1
    assert lateness(DUE + timedelta(hours=1), DATES, rules).label == "after the due date: does not count"


def test_an_extension_moves_the_students_due_date_course_end_and_hidden_criteria():
    settings = Settings(course_dir=REPO, data_dir=REPO / ".unused")
    p3 = course_files.load_assignment(settings, "p3")
    rules = load_course_rules(settings)
    plain, extended = rules.project_dates(p3), rules.project_dates(p3, extension_days=5)
    assert extended.due - plain.due == extended.course_end - plain.course_end == timedelta(days=5)
    assert extended.hidden_shown_from == extended.course_end  # the default: hidden criteria after the course end
    shown_early = p3.model_copy(update={"hidden_criteria_shown": "after_due_date"})
    assert rules.project_dates(shown_early).hidden_shown_from == plain.due


# --- through the web app ---------------------------------------------------------------------------------------------
def _set_course_dates(course_dir: Path, due: datetime, course_end: datetime, late_policy: str = "counts") -> None:
    spec_path = course_dir / "assignments" / "p1" / "assignment.yaml"
    spec = yaml.safe_load(spec_path.read_text())
    spec_path.write_text(yaml.safe_dump({**spec, "deadline": due.isoformat()}))
    rules_path = course_dir / "course.yaml"
    rules = yaml.safe_load(rules_path.read_text())
    rules_path.write_text(
        yaml.safe_dump({**rules, "course_end": course_end.isoformat(), "late_policy": {"after_due_date": late_policy}})
    )


def _result(score: float) -> dict:
    criteria = [
        ("addition", "Addition", 10.0, "always", False),
        ("average", "Average", 6.0, "after_deadline", False),
        ("style", "Code style", 4.0, "always", True),
    ]
    left = score
    rows = []
    for criterion_id, title, maximum, visibility, manual in criteria:
        points = 0.0 if manual else min(left, maximum)
        left -= points
        rows.append(
            {
                "id": criterion_id,
                "title": title,
                "points": points,
                "max_points": maximum,
                "visibility": visibility,
                "manual": manual,
                "feedback": "",
            }
        )
    return {"status": "graded", "score": score, "max_score": 20.0, "criteria": rows, "logs": {}, "duration_s": 1.0}


def _graded_attempt(settings: Settings, user_id: int, score: float, submitted_at: datetime) -> int:
    """A submission with its result, as a finished grading leaves it."""
    engine = make_engine(settings.effective_database_url)
    with make_session_factory(engine).begin() as session:
        gradebook = Gradebook(session)
        content = (SOLUTIONS / "right.py").read_bytes()
        [recorded] = gradebook.submissions.record_submissions(
            [
                NewSubmission(
                    user_id, "p1", hashlib.sha256(content).hexdigest(), "py", "solution.py", len(content), content
                )
            ]
        )
        claims = JobClaims(session)
        claims.finish(claims.claim(recorded.job_id), _result(score), None)
        session.get(Submission, recorded.submission_id).submitted_at = submitted_at
    engine.dispose()
    return recorded.submission_id


def _api_headers(settings: Settings, email: str) -> dict[str, str]:
    engine = make_engine(settings.effective_database_url)
    with make_session_factory(engine).begin() as session:
        gradebook = Gradebook(session)
        token = gradebook.accounts.issue_api_token(gradebook.accounts.user_by_email(email), "test")
    engine.dispose()
    return {"Authorization": f"Bearer {token}"}


def test_manual_points_of_a_student_without_an_upload_reach_dashboard_csv_and_api(
    client: TestClient, people, settings: Settings
):
    csrf = sign_in(client, people["teacher"].email)
    response = client.post(
        "/instructor/manual-scores",
        follow_redirects=False,
        data={"csrf_token": csrf, "student_id": people["bob"].id, "assignment_id": "p1", "item": "style", "points": 4},
    )
    assert response.status_code == 303
    student_page = client.get(response.headers["location"]).text
    assert 'data-manual-alone="p1"' in student_page and "has no attempt that counts" in student_page

    # the fixture course weighs p1 at 80 points: 4 of the rubric's 20 are 16
    dashboard = client.get("/instructor").text
    bob_row = dashboard[dashboard.index('data-student="bob@example.edu"') :]
    assert "<strong>16</strong>" in bob_row[: bob_row.index("</tr>")]
    rows = {row["email"]: row for row in csv.DictReader(io.StringIO(client.get("/instructor/grades.csv").text))}
    assert (rows["bob@example.edu"]["p1"], rows["bob@example.edu"]["total"]) == ("16", "16")
    standings = client.get("/api/gradebook", headers=_api_headers(settings, people["teacher"].email)).json()
    bob = next(row for row in standings if row["email"] == "bob@example.edu")
    assert (bob["projects"]["p1"], bob["total"]) == (16.0, 16.0)


def test_an_upload_after_the_due_date_is_taken_only_once_confirmed(settings: Settings, web_options, people_in):
    now = utcnow()
    _set_course_dates(
        settings.course_dir, due=now - timedelta(days=2) + timedelta(hours=1), course_end=now + timedelta(days=10)
    )
    with TestClient(create_app(settings, web_options)) as client:
        people = people_in(settings)
        csrf = sign_in(client, people["alice"].email)
        page = client.get("/assignments/p1").text
        assert "data-upload-warning" in page and "counts, marked" in page and 'name="confirm_upload"' in page

        refused = upload(client, csrf, "right.py", confirm=False)
        assert refused.status_code == 400
        assert "after the due date" in refused.text and "Nothing was uploaded" in refused.text
        assert (
            client.get("/api/assignments/p1/attempts", headers=_api_headers(settings, people["alice"].email)).json()
            == []
        )

        submission_id = submission_id_of(upload(client, csrf, "right.py", confirm=True))
        result_page = client.get(f"/submissions/{submission_id}").text
        assert "Handed in after the due date (2 days late): it counts" in result_page


def test_after_the_course_end_the_result_page_says_the_attempt_does_not_count(
    settings: Settings, web_options, people_in
):
    now = utcnow()
    _set_course_dates(settings.course_dir, due=now - timedelta(days=20), course_end=now - timedelta(days=1))
    with TestClient(create_app(settings, web_options)) as client:
        people = people_in(settings)
        submission_id = _graded_attempt(settings, people["alice"].id, 16.0, now - timedelta(minutes=5))
        sign_in(client, people["alice"].email)
        assert "after the course end: it does not count" in client.get("/assignments/p1").text
        page = client.get(f"/submissions/{submission_id}").text
        assert "Handed in after the course end: it does not count." in page
        sign_in(client, people["teacher"].email)
        assert "Handed in after the course end" in client.get(f"/instructor/submissions/{submission_id}").text
        sign_in(client, people["alice"].email)
        page = client.get(f"/submissions/{submission_id}").text
        assert "This attempt does not count in the gradebook." in page
        assert "complete score" not in page


def test_an_upload_that_would_replace_a_better_counting_attempt_asks_first(settings: Settings, web_options, people_in):
    with TestClient(create_app(settings, web_options)) as client:
        people = people_in(settings)
        counting = _graded_attempt(settings, people["alice"].id, 16.0, utcnow() - timedelta(hours=1))
        csrf = sign_in(client, people["alice"].email)
        page = client.get("/assignments/p1").text
        assert f"this upload replaces attempt #{counting} (16 of 20 rubric points)" in page
        refused = upload(client, csrf, "half.py", confirm=False)
        assert refused.status_code == 400 and "replaces attempt" in refused.text


def test_an_extension_granted_on_the_web_moves_only_that_students_dates(settings: Settings, web_options, people_in):
    now = utcnow()
    _set_course_dates(settings.course_dir, due=now - timedelta(days=2), course_end=now + timedelta(days=10))
    with TestClient(create_app(settings, web_options)) as client:
        people = people_in(settings)
        csrf = sign_in(client, people["teacher"].email)
        granted = client.post(
            "/instructor/extensions",
            follow_redirects=False,
            data={
                "csrf_token": csrf,
                "student_id": people["bob"].id,
                "assignment_id": "p1",
                "days": 5,
                "note": "medical certificate",
            },
        )
        assert granted.status_code == 303
        student_page = client.get(f"/instructor/students/{people['bob'].id}").text
        audit = student_page[student_page.index("data-extensions") :]
        assert "teacher@example.edu" in audit and "medical certificate" in audit
        refused = client.post(
            "/instructor/extensions",
            data={"csrf_token": csrf, "student_id": people["bob"].id, "assignment_id": "p1", "days": -3},
        )
        assert refused.status_code == 400 and "0 to 365 days" in refused.text

        bob_dates = client.get("/api/assignments", headers=_api_headers(settings, people["bob"].email)).json()
        assert datetime.fromisoformat(bob_dates[0]["deadline"]) == now + timedelta(days=3)
        sign_in(client, people["bob"].email)
        bob_page = client.get("/assignments/p1").text
        assert "data-upload-warning" not in bob_page and "with your extension of 5 days" in bob_page
        sign_in(client, people["alice"].email)
        assert "data-upload-warning" in client.get("/assignments/p1").text


def test_the_cli_grants_an_extension_with_its_audit_row(settings: Settings, web_options, people_in):
    with TestClient(create_app(settings, web_options)) as client:
        people = people_in(settings)
        env = {
            "GRADER_DATA_DIR": str(settings.data_dir),
            "GRADER_DATABASE_URL": settings.effective_database_url,
            "GRADER_COURSE_DIR": str(settings.course_dir),
        }
        runner = CliRunner()
        done = runner.invoke(
            admin,
            ["extend", people["alice"].email, "p1", "3", "--by", people["teacher"].email, "--note", "family"],
            env=env,
        )
        assert done.exit_code == 0, done.output
        unknown = runner.invoke(
            admin, ["extend", people["alice"].email, "p9", "3", "--by", people["teacher"].email], env=env
        )
        assert unknown.exit_code != 0 and "unknown assignment 'p9'" in unknown.output
        sign_in(client, people["teacher"].email)
        audit = client.get(f"/instructor/students/{people['alice'].id}").text
        assert "family" in audit[audit.index("data-extensions") :]


def test_the_app_does_not_start_when_a_due_lesson_is_missing_from_the_calendar(settings: Settings, web_options):
    spec_path = settings.course_dir / "assignments" / "p1" / "assignment.yaml"
    spec = {key: value for key, value in yaml.safe_load(spec_path.read_text()).items() if key != "deadline"}
    spec_path.write_text(yaml.safe_dump({**spec, "deadline_lesson": 9}))
    rules_path = settings.course_dir / "course.yaml"
    rules_path.write_text(rules_path.read_text() + "calendar: {1: 2027-02-08T10:00:00+00:00}\n")
    with pytest.raises(CourseRulesError, match="p1 is due at lesson 9"):
        create_app(settings, web_options)
