"""The actions behind both the pages and the JSON API, with their authorization. Each opens its own unit of work."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fastapi import Request
from sqlalchemy import Connection
from sqlalchemy.orm import sessionmaker
from starlette.concurrency import run_in_threadpool

from grader import intake, store
from grader.db.base import utcnow
from grader.db.models import GradeRecord, Submission, User
from grader.gradebook.catalog import CourseCatalog
from grader.gradebook.compute import counting_attempt
from grader.gradebook.extensions import extension_days
from grader.gradebook.group_commit import SubmissionRecorder
from grader.gradebook.manual_scores import COURSE_LEVEL, DEFENSE, RETAKE_QUESTIONS
from grader.gradebook.regrade_requests import overrides
from grader.gradebook.report import CourseAssignment, StudentRow, gradebook_rows, grades_csv
from grader.gradebook.repository import Gradebook
from grader.gradebook.rules import CourseRules, Lateness, ProjectDates, lateness
from grader.gradebook.submissions import NewSubmission, RecordedSubmission
from grader.intake import Rejected
from grader.pipeline import accept_staged, ensure_in_store, intake_caps
from grader.queue.base import GradingQueue
from grader.queue.identity import JobTrace, job_trace
from grader.settings import Settings
from grader.store import get as stored_submission
from grader.web.options import WebOptions
from grader.web.security import Viewer
from grader.web.uploads import InMemoryUpload, ParsedUpload, receive_upload
from grader.web.views import ResultView, result_view


class NotFound(Exception):
    """Also what a student gets for someone else's submission: its existence is not confirmed."""


class Forbidden(Exception):
    pass


class RateLimited(Exception):
    pass


class InvalidInput(Exception):
    pass


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    options: WebOptions
    rules: CourseRules
    session_factory: sessionmaker
    queue: GradingQueue
    catalog: CourseCatalog
    recorder: SubmissionRecorder

    @contextmanager
    def unit_of_work(self) -> Iterator[Gradebook]:
        with self.session_factory.begin() as session:
            yield Gradebook(session)

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A bare connection, for the Core reads every request makes (who is asking, the upload rate)."""
        with self.session_factory.kw["bind"].connect() as connection:
            yield connection

    def assignments(self) -> list[CourseAssignment]:
        return self.catalog.assignments()

    def assignment(self, assignment_id: str) -> CourseAssignment:
        for assignment in self.assignments():
            if assignment.id == assignment_id:
                return assignment
        raise NotFound(f"no assignment {assignment_id!r}")


@dataclass(frozen=True)
class AttemptRow:
    submission_id: int
    submitted_at: datetime
    original_name: str
    status: str  # queued | running | a GradeResult status
    shown_points: float | None
    shown_max: float | None
    hidden_max: float
    pending_manual_max: float
    counts: bool
    late: bool  # handed in after the student's due date
    late_label: str  # "" when on time
    how_it_counts: str  # under the late policy, whether or not it is the counting attempt


@dataclass(frozen=True)
class SubmissionPage:
    submission: Submission
    owner: User
    assignment: CourseAssignment
    status: str
    result: ResultView | None
    dates: ProjectDates  # the owner's
    lateness: Lateness
    counts: bool  # it is the owner's counting attempt


def graded_on(ctx: AppContext, submission_id: int) -> JobTrace | None:
    """The worker that produced the submission's shown result, else the one that took its job last."""
    with ctx.unit_of_work() as gradebook:
        record = gradebook.submissions.current_record(submission_id)
        return job_trace(gradebook.submissions.job(record.job_id) if record else gradebook.submissions.latest_job(submission_id))


def require_instructor(viewer: Viewer) -> None:
    if not viewer.is_instructor:
        raise Forbidden("this page is for instructors")


async def receive_and_submit(request: Request, ctx: AppContext, viewer: Viewer, assignment_id: str,
                             check_fields: Callable[[dict[str, str]], None] = lambda fields: None) -> RecordedSubmission:
    """Both upload routes: the body parsed, the form's other fields checked, the upload taken in (see `_taken_in`),
    then its submission and job rows committed with the other uploads of the moment (`SubmissionRecorder`) and
    queued; returns the committed row, once it is durable."""
    assignment = ctx.assignment(assignment_id)
    with ExitStack() as cleanup:
        parsed = await receive_upload(request, ctx.settings.max_upload_bytes, ctx.options.multipart_overhead_bytes,
                                      ctx.options.in_memory_upload_bytes,
                                      lambda: cleanup.enter_context(store.staging(ctx.settings.store_dir)))
        check_fields(parsed.fields)
        new = await _taken_in(ctx, viewer, assignment, parsed)
    recorded = await asyncio.wrap_future(ctx.recorder.submit(new))
    ctx.queue.enqueue(recorded.job_id)
    return recorded


async def _taken_in(ctx: AppContext, viewer: Viewer, assignment: CourseAssignment,
                    upload: ParsedUpload) -> NewSubmission:
    """A small .py or notebook is validated in memory and its bytes go to the gradebook with its row: nothing touches
    the disk before the commit, and the grading process writes it to the store. Anything else (a zip, a big file) is
    stored by a worker thread, without flushing: the recorder flushes the store once for its batch."""
    try:  # the catalog's parsed assignment spares re-reading its YAML on every upload
        if isinstance(upload, InMemoryUpload):
            taken: intake.Accepted | store.StoredSubmission
            taken, _ = intake.accept_single_file(upload.content, upload.original_name, assignment.spec,
                                                 intake_caps(ctx.settings))
            content: bytes | None = upload.content
        else:
            taken = await run_in_threadpool(accept_staged, ctx.settings, assignment.spec, upload.staging, upload.path,
                                            upload.original_name, flush=False)
            content = None
    except Rejected as error:
        raise InvalidInput(str(error)) from error
    return NewSubmission(viewer.id, assignment.id, taken.sha256, taken.kind, taken.original_name, taken.size_bytes,
                         content)


def submission_status(gradebook: Gradebook, submission: Submission, record: GradeRecord | None) -> str:
    if record is not None:
        return record.status
    job = gradebook.submissions.latest_job(submission.id)
    return job.state if job else "queued"


def _manual_points(gradebook: Gradebook, user_id: int, assignment: CourseAssignment) -> dict[str, float]:
    entered = {c.id: gradebook.manual_scores.points(user_id, assignment.id, c.id) for c in assignment.manual_criteria}
    return {criterion_id: points for criterion_id, points in entered.items() if points is not None}


def student_dates(ctx: AppContext, gradebook: Gradebook, student_id: int, assignment: CourseAssignment) -> ProjectDates:
    days = extension_days(gradebook, [student_id]).get((student_id, assignment.id), 0)
    return ctx.rules.project_dates(assignment.spec, days)


def _visible_result(gradebook: Gradebook, viewer: Viewer, submission: Submission, assignment: CourseAssignment,
                    record: GradeRecord | None, dates: ProjectDates) -> ResultView | None:
    if record is None:
        return None
    return result_view(record.result, _manual_points(gradebook, submission.user_id, assignment),
                       dates.hidden_shown_from, utcnow(), viewer.is_instructor,
                       overrides(gradebook.session, submission.id),
                       {c.id: gradebook.manual_scores.note(submission.user_id, assignment.id, c.id)
                        for c in assignment.manual_criteria})


def submission_page(ctx: AppContext, viewer: Viewer, submission_id: int) -> SubmissionPage:
    with ctx.unit_of_work() as gradebook:
        submission = gradebook.submissions.submission(submission_id)
        if submission is None or (submission.user_id != viewer.id and not viewer.is_instructor):
            raise NotFound("no such submission")
        assignment = ctx.assignment(submission.assignment_id)
        dates = student_dates(ctx, gradebook, submission.user_id, assignment)
        counting = counting_attempt(gradebook.submissions.attempts(submission.user_id, assignment.id), dates, ctx.rules)
        record = gradebook.submissions.current_record(submission.id)  # read once: status and result must agree
        return SubmissionPage(
            submission, submission.user, assignment, submission_status(gradebook, submission, record),
            _visible_result(gradebook, viewer, submission, assignment, record, dates), dates,
            lateness(submission.submitted_at, dates, ctx.rules),
            counting is not None and counting.submission_id == submission.id,
        )


def attempt_rows(ctx: AppContext, viewer: Viewer, student_id: int, assignment: CourseAssignment) -> list[AttemptRow]:
    if student_id != viewer.id and not viewer.is_instructor:
        raise NotFound("no such student")
    with ctx.unit_of_work() as gradebook:
        dates = student_dates(ctx, gradebook, student_id, assignment)
        counting = counting_attempt(gradebook.submissions.attempts(student_id, assignment.id), dates, ctx.rules)
        rows = []
        for submission in gradebook.submissions.submissions_of(student_id, assignment.id):
            record = gradebook.submissions.current_record(submission.id)
            view = _visible_result(gradebook, viewer, submission, assignment, record, dates)
            late = lateness(submission.submitted_at, dates, ctx.rules)
            rows.append(AttemptRow(
                submission_id=submission.id, submitted_at=submission.submitted_at,
                original_name=submission.original_name, status=submission_status(gradebook, submission, record),
                shown_points=view.shown_points if view else None, shown_max=view.shown_max if view else None,
                hidden_max=view.hidden_max if view else 0.0,
                pending_manual_max=view.pending_manual_max if view else 0.0,
                counts=counting is not None and counting.submission_id == submission.id,
                late=late.after_due_date, late_label=late.label, how_it_counts=late.describe(),
            ))
        return rows


def stored_files(ctx: AppContext, viewer: Viewer, submission_id: int) -> tuple[Path, list[str]]:
    require_instructor(viewer)
    with ctx.unit_of_work() as gradebook:
        submission = gradebook.submissions.submission(submission_id)
        if submission is None:
            raise NotFound("no such submission")
        ensure_in_store(ctx.settings, gradebook, submission.sha256, submission.assignment_id)
        tree = stored_submission(ctx.settings.store_dir, submission.sha256).tree
    return tree, sorted(str(path.relative_to(tree)) for path in tree.rglob("*") if path.is_file())


def stored_file(ctx: AppContext, viewer: Viewer, submission_id: int, relative: str) -> Path:
    tree, files = stored_files(ctx, viewer, submission_id)
    if relative not in files:  # only names listed from the tree itself: no path is ever built from the URL alone
        raise NotFound("no such file")
    return tree / relative


def dashboard_rows(ctx: AppContext, viewer: Viewer) -> tuple[list[CourseAssignment], list[StudentRow]]:
    require_instructor(viewer)
    assignments = ctx.assignments()
    with ctx.unit_of_work() as gradebook:
        return assignments, gradebook_rows(gradebook, assignments, ctx.rules)


def export_grades(ctx: AppContext, viewer: Viewer) -> str:
    assignments, rows = dashboard_rows(ctx, viewer)
    return grades_csv(rows, assignments)


def manual_items(ctx: AppContext) -> dict[tuple[str, str], float]:
    """(assignment id, item) -> its maximum: manual rubric criteria, the defense and the retake questions."""
    items = {(COURSE_LEVEL, RETAKE_QUESTIONS): float(ctx.rules.retake_questions_required)}
    if ctx.rules.final_project is None:  # otherwise the defense is the final project's manual criteria
        items[(COURSE_LEVEL, DEFENSE)] = ctx.rules.defense_points
    for assignment in ctx.assignments():
        for criterion in assignment.manual_criteria:
            items[(assignment.id, criterion.id)] = criterion.points
    return items


def enter_manual_score(ctx: AppContext, viewer: Viewer, student_id: int, assignment_id: str, item: str,
                       points: float, note: str) -> None:
    require_instructor(viewer)
    maximum = manual_items(ctx).get((assignment_id, item))
    if maximum is None:
        raise InvalidInput(f"{item!r} is not a manual item of {assignment_id or 'the course'!r}")
    if not 0 <= points <= maximum:
        raise InvalidInput(f"points for {item} must be between 0 and {maximum:g}")
    with ctx.unit_of_work() as gradebook:
        student = gradebook.accounts.user(student_id)
        if student is None or student.role != "student":
            raise NotFound("no such student")
        gradebook.manual_scores.enter(student, assignment_id, item, points, note, gradebook.accounts.user(viewer.id))
