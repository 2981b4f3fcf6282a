"""Dates: one student's dates for a project (their extension included), how an upload made now would
count, and the instructor's grant of an extension. Each opens its own unit of work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from grader.db.base import utcnow
from grader.db.course_models import Extension
from grader.db.models import User
from grader.gradebook.compute import counting_attempt
from grader.gradebook.extensions import ExtensionError, extension_history, grant_extension
from grader.gradebook.report import GradebookAssignment
from grader.gradebook.repository import Gradebook
from grader.gradebook.rules import Lateness, ProjectDates, lateness
from grader.services.access import Caller, Forbidden, InvalidInput, NotFound, require_instructor
from grader.services.context import ServiceContext
from grader.services.submissions import student_dates

CONFIRM_FIELD = "confirm_upload"


@dataclass(frozen=True)
class UploadOutlook:
    """What the assignment page tells a student before an upload, and what they must confirm."""

    dates: ProjectDates
    lateness: Lateness  # of an upload made now
    replaces: str  # "" or why the upload would replace a better counting attempt

    @property
    def warnings(self) -> tuple[str, ...]:
        late = (self.lateness.describe(),) if self.lateness.after_due_date else ()
        return late + ((self.replaces,) if self.replaces else ())


def dates_of(ctx: ServiceContext, student_id: int, assignment: GradebookAssignment) -> ProjectDates:
    with ctx.unit_of_work() as gradebook:
        return student_dates(ctx, gradebook, student_id, assignment)


def upload_outlook(
    ctx: ServiceContext, caller: Caller, assignment: GradebookAssignment, now: datetime | None = None
) -> UploadOutlook:
    now = now or utcnow()
    with ctx.unit_of_work() as gradebook:
        dates = student_dates(ctx, gradebook, caller.id, assignment)
        counting = counting_attempt(gradebook.submissions.attempts(caller.id, assignment.id), dates, ctx.rules)
    upload_lateness = lateness(now, dates, ctx.rules)
    replaces = ""
    if (
        ctx.rules.counting_attempt == "latest_before_deadline"
        and upload_lateness.counts
        and counting is not None
        and counting.graded
        and (counting.score or 0.0) > 0
    ):
        replaces = (
            f"Your latest attempt counts: this upload replaces attempt #{counting.submission_id} "
            f"({counting.score:g} of {counting.max_score:g} rubric points) as the counting one, even if it "
            "scores less."
        )
        if upload_lateness.penalty_share:
            replaces += f" It also loses {upload_lateness.penalty_share:.0%} for lateness."
    return UploadOutlook(dates, upload_lateness, replaces)


def check_confirmed(outlook: UploadOutlook, fields: dict[str, str]) -> None:
    """The server's side of the form's confirmation: a page upload with a warning is taken only once confirmed
    (the page may have been opened before the due date passed)."""
    if outlook.warnings and fields.get(CONFIRM_FIELD) != "yes":
        raise InvalidInput(
            " ".join(outlook.warnings) + " Nothing was uploaded: read how it would count, tick the "
            "confirmation and upload again."
        )


def grant(ctx: ServiceContext, caller: Caller, student_id: int, assignment_id: str, days: int, note: str) -> None:
    require_instructor(caller)
    ctx.assignment(assignment_id)
    with ctx.unit_of_work() as gradebook:
        grant_in(
            gradebook,
            gradebook.accounts.user(student_id),
            gradebook.accounts.user(caller.id),
            assignment_id,
            days,
            note,
        )


def grant_in(
    gradebook: Gradebook, student: User | None, instructor: User | None, assignment_id: str, days: int, note: str
) -> None:
    """A grant's rules in the caller's unit of work (a page's, `grader admin extend`'s): a student's account, granted
    by an instructor's, within `grant_extension`'s bounds. The assignment is the caller's to check."""
    if student is None or student.role != "student":
        raise NotFound("no such student")
    if instructor is None or instructor.role != "instructor":
        raise Forbidden("an extension is granted by an instructor's account")
    try:
        grant_extension(gradebook, student, assignment_id, days, note, instructor)
    except ExtensionError as error:
        raise InvalidInput(str(error)) from error


@dataclass(frozen=True)
class ExtensionRow:
    granted_at: datetime
    by: str
    assignment_id: str
    days: int
    note: str


def extension_rows(ctx: ServiceContext, caller: Caller, student_id: int) -> list[ExtensionRow]:
    require_instructor(caller)
    with ctx.unit_of_work() as gradebook:
        return [_row(extension) for extension in extension_history(gradebook, student_id)]


def _row(extension: Extension) -> ExtensionRow:
    return ExtensionRow(
        extension.granted_at, extension.instructor.email, extension.assignment_id, extension.days, extension.note
    )
