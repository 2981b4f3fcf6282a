"""The services behind the pages (accounts, plagiarism cases, regrade requests, a student's record, a submission's
whole result), called with a plain caller: who may do what, and what each answers. The gradebook is a real SQLite
database over the web tests' course."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from grader.db.base import make_engine, make_session_factory
from grader.db.plagiarism_models import PlagiarismCase
from grader.gradebook.accounts import RosterEntry
from grader.gradebook.catalog import CourseCatalog
from grader.gradebook.group_commit import SubmissionRecorder
from grader.gradebook.repository import Gradebook
from grader.gradebook.rules import load_course_rules
from grader.gradebook.sign_in_throttle import ThrottlePolicy
from grader.queue.claims import JobClaims
from grader.services import accounts, deadlines, grades, handouts, plagiarism, regrade_requests, submissions
from grader.services.access import Forbidden, InvalidInput, NotFound, RateLimited
from grader.services.context import ServiceContext
from grader.settings import Settings

COURSE = Path(__file__).resolve().parents[1] / "web" / "course"
PASSWORD = "correct horse battery"
TWO_FREE_FAILURES = ThrottlePolicy(free_failures_per_account=2, first_wait=timedelta(minutes=5))


@dataclass(frozen=True)
class Caller:
    id: int
    is_instructor: bool


class IdleQueue:
    def start(self) -> None: ...

    def stop(self) -> None: ...

    def enqueue(self, job_id: int) -> None: ...


@dataclass(frozen=True)
class Course:
    ctx: ServiceContext
    instructor: Caller
    ada: Caller
    bob: Caller


@pytest.fixture
def course(tmp_path: Path, migrate_gradebook: Callable[[str], None]) -> Iterator[Course]:
    settings = Settings(course_dir=COURSE, data_dir=tmp_path / "data", sandbox="local")
    settings.data_dir.mkdir(parents=True)
    migrate_gradebook(settings.effective_database_url)
    engine = make_engine(settings.effective_database_url)
    session_factory = make_session_factory(engine)
    rules = load_course_rules(settings)
    recorder = SubmissionRecorder(session_factory)
    ctx = ServiceContext(settings, rules, session_factory, IdleQueue(), CourseCatalog(settings, rules), recorder)
    with session_factory.begin() as session:
        accounts = Gradebook(session).accounts
        teacher, _ = accounts.add_user(RosterEntry("teacher@uni.example", "Teacher"), "instructor")
        ada, _ = accounts.add_user(RosterEntry("ada@uni.example", "Ada", "s001"), "student")
        bob, _ = accounts.add_user(RosterEntry("bob@uni.example", "Bob", "s002"), "student")
        session.flush()
        ids = teacher.id, ada.id, bob.id
    yield Course(ctx, Caller(ids[0], True), Caller(ids[1], False), Caller(ids[2], False))
    recorder.stop()
    engine.dispose()


def graded_submission(course: Course, student: Caller, points: float = 1.0) -> int:
    """A submission of p1 with a published result of one criterion worth 2 points."""
    assignment_id = course.ctx.assignments()[0].id
    result = {
        "status": "graded",
        "score": points,
        "max_score": 2.0,
        "assignment": assignment_id,
        "criteria": [{"id": "works", "title": "It works", "points": points, "max_points": 2.0, "visibility": "always"}],
    }
    with course.ctx.unit_of_work() as gradebook:
        recorded = gradebook.submissions.record_submission(student.id, assignment_id, "ab" * 32, "py", "a.py", 10)
        claims = JobClaims(gradebook.session)
        claims.finish(claims.claim(recorded.job_id), result, None)
        return recorded.submission_id


def open_case(course: Course, status: str = "flagged") -> int:
    with course.ctx.unit_of_work() as gradebook:
        case = PlagiarismCase(
            assignment_id=course.ctx.assignments()[0].id,
            student_a="ada@uni.example",
            student_b="s002",
            score=0.97,
            channels={},
            status=status,
        )
        gradebook.session.add(case)
        gradebook.session.flush()
        return case.id


# --- plagiarism ------------------------------------------------------------------------------------------------------
def test_a_case_names_the_accounts_behind_its_e_mail_and_student_number(course: Course) -> None:
    case_id = open_case(course)

    review = plagiarism.case_review(course.ctx, course.instructor, case_id)
    listed, _ = plagiarism.review_list(course.ctx, course.instructor)

    assert (review.named.left.id, review.named.right.id) == (course.ada.id, course.bob.id)
    assert [(item.case.id, item.left.id, item.right.id) for item in listed] == [(case_id, course.ada.id, course.bob.id)]
    assert review.penalty_points <= review.max_points


def test_a_decision_needs_a_known_verdict_and_a_comment_and_is_signed_by_the_caller(course: Course) -> None:
    case_id = open_case(course)

    with pytest.raises(InvalidInput, match="one of"):
        plagiarism.decide_case(course.ctx, course.instructor, case_id, "maybe", "looks alike")
    with pytest.raises(InvalidInput, match="needs a comment"):
        plagiarism.decide_case(course.ctx, course.instructor, case_id, "confirmed", "  ")
    plagiarism.decide_case(course.ctx, course.instructor, case_id, "confirmed", " same bug, same names ")

    case = plagiarism.case_review(course.ctx, course.instructor, case_id).named.case
    assert (case.status, case.comment, case.decided_by) == ("confirmed", "same bug, same names", "teacher@uni.example")


def test_students_neither_review_nor_decide_cases(course: Course) -> None:
    case_id = open_case(course)

    with pytest.raises(Forbidden):
        plagiarism.review_list(course.ctx, course.ada)
    with pytest.raises(Forbidden):
        plagiarism.decide_case(course.ctx, course.ada, case_id, "dismissed", "not me")
    with pytest.raises(NotFound):
        plagiarism.case_review(course.ctx, course.instructor, case_id + 1)


def test_only_a_confirmed_case_is_a_penalty_for_both_of_its_students(course: Course) -> None:
    assignment_id = course.ctx.assignments()[0].id
    case_id = open_case(course)
    assert plagiarism.penalties(course.ctx, course.ada.id, assignment_id) == []

    plagiarism.decide_case(course.ctx, course.instructor, case_id, "confirmed", "copied")

    for student in (course.ada, course.bob):
        [penalty] = plagiarism.penalties(course.ctx, student.id, assignment_id)
        assert (penalty.assignment_id, penalty.comment) == (assignment_id, "copied")
    assert plagiarism.penalties(course.ctx, course.instructor.id, assignment_id) == []


# --- regrade requests ------------------------------------------------------------------------------------------------
def test_only_the_submitting_student_asks_and_someone_elses_submission_is_not_found(course: Course) -> None:
    submission_id = graded_submission(course, course.ada)

    with pytest.raises(NotFound):
        regrade_requests.ask(course.ctx, course.bob, submission_id, "works", "why?")
    with pytest.raises(InvalidInput, match="only the student who submitted"):
        regrade_requests.ask(course.ctx, course.instructor, submission_id, "works", "why?")
    request_id = regrade_requests.ask(course.ctx, course.ada, submission_id, "works", "my output matches")

    with pytest.raises(NotFound):
        regrade_requests.request_thread(course.ctx, course.bob, request_id)
    thread = regrade_requests.request_thread(course.ctx, course.ada, request_id)
    assert [(m.author, m.body) for m in thread.messages] == [("Ada", "my output matches")]
    assert (thread.max_points, thread.automatic_points) == (2.0, 1.0)


def test_an_instructors_answer_may_override_the_points_and_a_students_may_not(course: Course) -> None:
    submission_id = graded_submission(course, course.ada)
    request_id = regrade_requests.ask(course.ctx, course.ada, submission_id, "works", "please look")

    with pytest.raises(InvalidInput, match="only an instructor"):
        regrade_requests.answer(course.ctx, course.ada, request_id, "I insist", 2.0)
    regrade_requests.answer(course.ctx, course.instructor, request_id, "right, full points", 2.0)

    page = submissions.submission_page(course.ctx, course.ada, submission_id)
    assert [c.points for c in page.result.criteria] == [2.0]
    [(request, student, _)] = regrade_requests.all_requests(course.ctx, course.instructor)
    assert (request.id, request.status, student) == (request_id, "answered", "Ada")
    assert [r.id for r in regrade_requests.requests_on(course.ctx, page)] == [request_id]


# --- a student's record, a submission's whole result --------------------------------------------------------------
def test_a_students_record_is_for_instructors_and_only_of_students(course: Course) -> None:
    submission_id = graded_submission(course, course.ada)

    record = grades.student_record(course.ctx, course.instructor, course.ada.id)

    assert record.person.id == course.ada.id
    assert [row.submission_id for _, rows in record.history for row in rows] == [submission_id]
    with pytest.raises(NotFound):
        grades.student_record(course.ctx, course.instructor, course.instructor.id)
    with pytest.raises(Forbidden):
        grades.student_record(course.ctx, course.ada, course.ada.id)


def test_the_whole_stored_result_is_for_instructors(course: Course) -> None:
    submission_id = graded_submission(course, course.ada)

    result = submissions.current_result(course.ctx, course.instructor, submission_id)

    assert [c["id"] for c in result["criteria"]] == ["works"]
    with pytest.raises(Forbidden):
        submissions.current_result(course.ctx, course.ada, submission_id)


# --- accounts --------------------------------------------------------------------------------------------------------
def invite(course: Course, email: str) -> str:
    with course.ctx.unit_of_work() as gradebook:
        return gradebook.accounts.reissue_invite(gradebook.accounts.user_by_email(email))


def test_an_invitation_sets_the_first_password_once(course: Course) -> None:
    link = invite(course, "ada@uni.example")

    with pytest.raises(InvalidInput, match="at least"):
        accounts.accept_invitation(course.ctx, link, "short", "short")
    assert accounts.invited_name(course.ctx, link) == "Ada"  # a refused password leaves the link usable
    assert accounts.accept_invitation(course.ctx, link, PASSWORD, PASSWORD) == course.ada.id

    with pytest.raises(NotFound, match="already used"):
        accounts.invited_name(course.ctx, link)
    assert accounts.sign_in(course.ctx, " Ada@uni.example ", PASSWORD, "10.0.0.1", TWO_FREE_FAILURES) == course.ada.id


def test_sign_in_failures_beyond_the_free_ones_make_the_account_wait(course: Course) -> None:
    link = invite(course, "ada@uni.example")
    accounts.accept_invitation(course.ctx, link, PASSWORD, PASSWORD)

    for _ in range(2):
        with pytest.raises(InvalidInput, match="E-mail or password is wrong"):
            accounts.sign_in(course.ctx, "ada@uni.example", "wrong password", "10.0.0.1", TWO_FREE_FAILURES)
    with pytest.raises(RateLimited, match="Try again in"):
        accounts.sign_in(course.ctx, "ada@uni.example", PASSWORD, "10.0.0.2", TWO_FREE_FAILURES)


def test_a_password_change_needs_the_current_one_and_revokes_the_api_tokens(course: Course) -> None:
    accounts.accept_invitation(course.ctx, invite(course, "ada@uni.example"), PASSWORD, PASSWORD)
    accounts.issue_api_token(course.ctx, course.ada, "script")

    with pytest.raises(InvalidInput, match="current password is wrong"):
        accounts.change_password(course.ctx, course.ada, "not it", "a new long password", "a new long password")
    accounts.change_password(course.ctx, course.ada, PASSWORD, "a new long password", "a new long password")

    assert accounts.api_tokens(course.ctx, course.ada) == []
    assert accounts.sign_in(course.ctx, "ada@uni.example", "a new long password", "10.0.0.1", TWO_FREE_FAILURES)


def test_an_api_token_is_listed_for_its_owner_and_revoked_only_by_them(course: Course) -> None:
    accounts.issue_api_token(course.ctx, course.ada, "lms")
    [token] = accounts.api_tokens(course.ctx, course.ada)

    assert token.label == "lms"
    with pytest.raises(NotFound):
        accounts.revoke_api_token(course.ctx, course.bob, token.id)
    accounts.revoke_api_token(course.ctx, course.ada, token.id)
    assert accounts.api_tokens(course.ctx, course.ada) == []


# --- manual scores ---------------------------------------------------------------------------------------------------
def test_a_project_form_with_one_wrong_value_enters_nothing(course: Course) -> None:
    with pytest.raises(InvalidInput, match="between 0 and 4, not 5"):
        grades.enter_project_scores(course.ctx, course.instructor, course.ada.id, "p1", {"style": (5.0, "")})
    with pytest.raises(InvalidInput, match="not a manual item"):
        grades.enter_project_scores(course.ctx, course.instructor, course.ada.id, "p1", {"works": (1.0, "")})
    with pytest.raises(InvalidInput, match="at least one criterion"):
        grades.enter_project_scores(course.ctx, course.instructor, course.ada.id, "p1", {})
    assert grades.student_record(course.ctx, course.instructor, course.ada.id).audit == []

    grades.enter_project_scores(course.ctx, course.instructor, course.ada.id, "p1", {"style": (3.5, "tidy")})

    record = grades.student_record(course.ctx, course.instructor, course.ada.id)
    assert record.manual_now[("p1", "style")] == 3.5
    assert [(entry.points, email) for entry, email in record.audit] == [(3.5, "teacher@uni.example")]
    with pytest.raises(Forbidden):
        grades.enter_project_scores(course.ctx, course.ada, course.ada.id, "p1", {"style": (4.0, "")})


# --- extensions ------------------------------------------------------------------------------------------------------
def test_an_extension_is_for_a_student_and_granted_by_an_instructor(course: Course) -> None:
    with course.ctx.unit_of_work() as gradebook:
        ada, bob, teacher = (gradebook.accounts.user(c.id) for c in (course.ada, course.bob, course.instructor))
        with pytest.raises(Forbidden, match="instructor's account"):
            deadlines.grant_in(gradebook, ada, bob, "p1", 3, "asked a friend")
        with pytest.raises(NotFound, match="no such student"):
            deadlines.grant_in(gradebook, teacher, teacher, "p1", 3, "")
        deadlines.grant_in(gradebook, ada, teacher, "p1", 3, "ill")

    assert [
        (row.assignment_id, row.days, row.by)
        for row in deadlines.extension_rows(course.ctx, course.instructor, course.ada.id)
    ] == [("p1", 3, "teacher@uni.example")]
    assert deadlines.extension_rows(course.ctx, course.instructor, course.bob.id) == []


# --- course materials, the dashboard's workers -----------------------------------------------------------------------
def test_the_handout_zip_is_built_once_per_version_and_only_for_known_assignments(course: Course) -> None:
    first = handouts.handout_zip(course.ctx, "p1")
    built_at = first.stat().st_mtime_ns

    assert handouts.handout_zip(course.ctx, "p1") == first and first.stat().st_mtime_ns == built_at
    with pytest.raises(NotFound):
        handouts.handout_zip(course.ctx, "../p1")


def test_the_grading_workers_are_listed_for_instructors(course: Course) -> None:
    assert grades.grading_workers(course.ctx, course.instructor) == []  # none has beaten in this gradebook
    with pytest.raises(Forbidden):
        grades.grading_workers(course.ctx, course.ada)
