"""The instructor's gradebook: the dashboard's rows, the grades CSV, and manual scores entered by hand."""

from __future__ import annotations

from dataclasses import dataclass

from grader.db.models import ManualScore, User
from grader.gradebook.manual_scores import COURSE_LEVEL, DEFENSE, RETAKE_QUESTIONS
from grader.gradebook.report import GradebookAssignment, StudentRow, gradebook_rows, grades_csv
from grader.queue.heartbeat import WorkerStatus, worker_statuses
from grader.services.access import Caller, InvalidInput, NotFound, require_instructor
from grader.services.context import ServiceContext
from grader.services.submissions import AttemptRow, attempt_rows


@dataclass(frozen=True)
class StudentRecord:
    """One student as the instructor's student page shows them."""

    person: User
    history: list[tuple[GradebookAssignment, list[AttemptRow]]]
    audit: list[tuple[ManualScore, str]]  # every manual entry, with its instructor's e-mail
    manual_now: dict[tuple[str, str], float | None]  # (assignment id, item) -> the points that count now
    manual_alone: list[str]  # projects whose manual points count without any counting attempt


def dashboard_rows(ctx: ServiceContext, caller: Caller) -> tuple[list[GradebookAssignment], list[StudentRow]]:
    require_instructor(caller)
    assignments = ctx.assignments()
    with ctx.unit_of_work() as gradebook:
        return assignments, gradebook_rows(gradebook, assignments, ctx.rules)


def grading_workers(ctx: ServiceContext, caller: Caller) -> list[WorkerStatus]:
    """The grading workers the dashboard lists: those seen lately, and whether each is alive."""
    require_instructor(caller)
    return worker_statuses(ctx.session_factory, ctx.settings)


def export_grades(ctx: ServiceContext, caller: Caller) -> str:
    assignments, rows = dashboard_rows(ctx, caller)
    return grades_csv(rows, assignments)


def manual_items(ctx: ServiceContext) -> dict[tuple[str, str], float]:
    """(assignment id, item) -> its maximum: manual rubric criteria, the defense and the retake questions."""
    items = {(COURSE_LEVEL, RETAKE_QUESTIONS): float(ctx.rules.retake_questions_required)}
    if ctx.rules.final_project is None:  # otherwise the defense is the final project's manual criteria
        items[(COURSE_LEVEL, DEFENSE)] = ctx.rules.defense_points
    for assignment in ctx.assignments():
        for criterion in assignment.manual_criteria:
            items[(assignment.id, criterion.id)] = criterion.points
    return items


def _check_points(item: str, points: float, maximum: float | None, assignment_id: str) -> None:
    if maximum is None:
        raise InvalidInput(f"{item!r} is not a manual item of {assignment_id or 'the course'!r}")
    if not 0 <= points <= maximum:
        raise InvalidInput(f"points for {item} must be between 0 and {maximum:g}, not {points:g}")


def _enter(
    ctx: ServiceContext, caller: Caller, student_id: int, assignment_id: str, entries: dict[str, tuple[float, str]]
) -> None:
    with ctx.unit_of_work() as gradebook:
        student = gradebook.accounts.user(student_id)
        if student is None or student.role != "student":
            raise NotFound("no such student")
        instructor = gradebook.accounts.user(caller.id)
        for item, (points, note) in entries.items():
            gradebook.manual_scores.enter(student, assignment_id, item, points, note, instructor)


def enter_manual_score(
    ctx: ServiceContext, caller: Caller, student_id: int, assignment_id: str, item: str, points: float, note: str
) -> None:
    require_instructor(caller)
    _check_points(item, points, manual_items(ctx).get((assignment_id, item)), assignment_id)
    _enter(ctx, caller, student_id, assignment_id, {item: (points, note)})


def enter_project_scores(
    ctx: ServiceContext, caller: Caller, student_id: int, assignment_id: str, entries: dict[str, tuple[float, str]]
) -> None:
    """A project's manual criteria entered together (criterion id -> points, note): every value is checked before
    any is entered, so one wrong value enters nothing."""
    require_instructor(caller)
    if not entries:
        raise InvalidInput("fill in the points of at least one criterion")
    items = manual_items(ctx)
    for criterion_id, (points, _) in entries.items():
        _check_points(criterion_id, points, items.get((assignment_id, criterion_id)), assignment_id)
    _enter(ctx, caller, student_id, assignment_id, entries)


def student_record(ctx: ServiceContext, caller: Caller, student_id: int) -> StudentRecord:
    require_instructor(caller)
    items = manual_items(ctx)
    with ctx.unit_of_work() as gradebook:
        person = gradebook.accounts.user(student_id)
        if person is None or person.role != "student":
            raise NotFound("no such student")
        audit = [(entry, entry.instructor.email) for entry in gradebook.manual_scores.entries(student_id)]
        manual_now = {(a, i): gradebook.manual_scores.points(student_id, a, i) for a, i in items}
    history = [(a, attempt_rows(ctx, caller, student_id, a)) for a in ctx.assignments()]
    # Manual points count without an attempt; the instructor is told when they are all a project has.
    manual_alone = [
        a.id
        for a, rows in history
        if not any(row.counts for row in rows)
        and any(manual_now.get((a.id, c.id)) is not None for c in a.manual_criteria)
    ]
    return StudentRecord(person, history, audit, manual_now, manual_alone)
