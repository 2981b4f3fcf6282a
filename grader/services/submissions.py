"""A student's attempts and one submission's page, as the caller may see them; the stored files for instructors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from grader.db.base import utcnow
from grader.db.models import GradeRecord, Submission, User
from grader.gradebook.compute import counting_attempt
from grader.gradebook.extensions import extension_days
from grader.gradebook.regrade_requests import overrides
from grader.gradebook.report import GradebookAssignment
from grader.gradebook.repository import Gradebook
from grader.gradebook.rules import Lateness, ProjectDates, lateness
from grader.pipeline import ensure_in_store
from grader.queue.identity import JobTrace, job_trace
from grader.services.access import Caller, NotFound, require_instructor
from grader.services.context import ServiceContext
from grader.services.result_views import ResultView, result_view
from grader.store import get as stored_submission


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
    assignment: GradebookAssignment
    status: str
    result: ResultView | None
    dates: ProjectDates  # the owner's
    lateness: Lateness
    counts: bool  # it is the owner's counting attempt


def graded_on(ctx: ServiceContext, submission_id: int) -> JobTrace | None:
    """The worker that produced the submission's shown result, else the one that took its job last."""
    with ctx.unit_of_work() as gradebook:
        submissions = gradebook.submissions
        record = submissions.current_record(submission_id)
        return job_trace(submissions.job(record.job_id) if record else submissions.latest_job(submission_id))


def submission_status(gradebook: Gradebook, submission: Submission, record: GradeRecord | None) -> str:
    if record is not None:
        return record.status
    job = gradebook.submissions.latest_job(submission.id)
    return job.state if job else "queued"


def _manual_points(gradebook: Gradebook, user_id: int, assignment: GradebookAssignment) -> dict[str, float]:
    entered = {c.id: gradebook.manual_scores.points(user_id, assignment.id, c.id) for c in assignment.manual_criteria}
    return {criterion_id: points for criterion_id, points in entered.items() if points is not None}


def student_dates(
    ctx: ServiceContext, gradebook: Gradebook, student_id: int, assignment: GradebookAssignment
) -> ProjectDates:
    days = extension_days(gradebook, [student_id]).get((student_id, assignment.id), 0)
    return ctx.rules.project_dates(assignment.spec, days)


def _visible_result(
    gradebook: Gradebook,
    caller: Caller,
    submission: Submission,
    assignment: GradebookAssignment,
    record: GradeRecord | None,
    dates: ProjectDates,
) -> ResultView | None:
    if record is None:
        return None
    return result_view(
        record.result,
        _manual_points(gradebook, submission.user_id, assignment),
        dates.hidden_shown_from,
        utcnow(),
        caller.is_instructor,
        overrides(gradebook.session, submission.id),
        {
            c.id: gradebook.manual_scores.note(submission.user_id, assignment.id, c.id)
            for c in assignment.manual_criteria
        },
    )


def submission_page(ctx: ServiceContext, caller: Caller, submission_id: int) -> SubmissionPage:
    with ctx.unit_of_work() as gradebook:
        submission = gradebook.submissions.submission(submission_id)
        if submission is None or (submission.user_id != caller.id and not caller.is_instructor):
            raise NotFound("no such submission")
        assignment = ctx.assignment(submission.assignment_id)
        dates = student_dates(ctx, gradebook, submission.user_id, assignment)
        counting = counting_attempt(gradebook.submissions.attempts(submission.user_id, assignment.id), dates, ctx.rules)
        record = gradebook.submissions.current_record(submission.id)  # read once: status and result must agree
        return SubmissionPage(
            submission,
            submission.user,
            assignment,
            submission_status(gradebook, submission, record),
            _visible_result(gradebook, caller, submission, assignment, record, dates),
            dates,
            lateness(submission.submitted_at, dates, ctx.rules),
            counting is not None and counting.submission_id == submission.id,
        )


def attempt_rows(
    ctx: ServiceContext, caller: Caller, student_id: int, assignment: GradebookAssignment
) -> list[AttemptRow]:
    if student_id != caller.id and not caller.is_instructor:
        raise NotFound("no such student")
    with ctx.unit_of_work() as gradebook:
        dates = student_dates(ctx, gradebook, student_id, assignment)
        counting = counting_attempt(gradebook.submissions.attempts(student_id, assignment.id), dates, ctx.rules)
        rows = []
        for submission in gradebook.submissions.submissions_of(student_id, assignment.id):
            record = gradebook.submissions.current_record(submission.id)
            view = _visible_result(gradebook, caller, submission, assignment, record, dates)
            late = lateness(submission.submitted_at, dates, ctx.rules)
            rows.append(
                AttemptRow(
                    submission_id=submission.id,
                    submitted_at=submission.submitted_at,
                    original_name=submission.original_name,
                    status=submission_status(gradebook, submission, record),
                    shown_points=view.shown_points if view else None,
                    shown_max=view.shown_max if view else None,
                    hidden_max=view.hidden_max if view else 0.0,
                    pending_manual_max=view.pending_manual_max if view else 0.0,
                    counts=counting is not None and counting.submission_id == submission.id,
                    late=late.after_due_date,
                    late_label=late.label,
                    how_it_counts=late.describe(),
                )
            )
        return rows


def current_result(ctx: ServiceContext, caller: Caller, submission_id: int) -> dict[str, Any]:
    """The whole stored result (every check, the sandbox) for instructors; {} before one is recorded."""
    require_instructor(caller)
    with ctx.unit_of_work() as gradebook:
        record = gradebook.submissions.current_record(submission_id)
        return record.result if record else {}


def stored_files(ctx: ServiceContext, caller: Caller, submission_id: int) -> tuple[Path, list[str]]:
    require_instructor(caller)
    with ctx.unit_of_work() as gradebook:
        submission = gradebook.submissions.submission(submission_id)
        if submission is None:
            raise NotFound("no such submission")
        ensure_in_store(ctx.settings, gradebook, submission.sha256, submission.assignment_id)
        tree = stored_submission(ctx.settings.store_dir, submission.sha256).tree
    return tree, sorted(str(path.relative_to(tree)) for path in tree.rglob("*") if path.is_file())


def stored_file(ctx: ServiceContext, caller: Caller, submission_id: int, relative: str) -> Path:
    tree, files = stored_files(ctx, caller, submission_id)
    if relative not in files:  # only names listed from the tree itself: no path is ever built from the URL alone
        raise NotFound("no such file")
    return tree / relative
