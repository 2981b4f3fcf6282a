"""Per-student extensions: an instructor grants one student N more days for one project, and every date of that
project (due date, course end, when hidden criteria appear) moves by N days for that student only."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select

from grader.db.course_models import Extension
from grader.db.models import User
from grader.gradebook.repository import Gradebook

MAX_EXTENSION_DAYS = 365


class ExtensionError(ValueError):
    """An extension that cannot be granted; the message says what to change."""


def grant_extension(
    gradebook: Gradebook, student: User, assignment_id: str, days: int, note: str, by: User
) -> Extension:
    """Record the grant (the audit row); it replaces the student's earlier grant for the project, and 0 withdraws."""
    if student.role != "student":
        raise ExtensionError(f"{student.email} is not a student; extensions are for students")
    if not 0 <= days <= MAX_EXTENSION_DAYS:
        raise ExtensionError(f"an extension is 0 to {MAX_EXTENSION_DAYS} days (0 withdraws one); got {days}")
    extension = Extension(
        user_id=student.id, assignment_id=assignment_id, days=days, note=note.strip(), granted_by=by.id
    )
    gradebook.session.add(extension)
    gradebook.session.flush()
    return extension


def extension_days(gradebook: Gradebook, user_ids: Collection[int] | None = None) -> dict[tuple[int, str], int]:
    """(student, assignment) -> the days in force: the latest grant of each pair."""
    query = select(Extension.user_id, Extension.assignment_id, Extension.days).order_by(Extension.id)
    if user_ids is not None:
        query = query.where(Extension.user_id.in_(user_ids))
    return {(user_id, assignment_id): days for user_id, assignment_id, days in gradebook.session.execute(query)}


def extension_history(gradebook: Gradebook, user_id: int) -> list[Extension]:
    """Every grant for the student, newest first: the audit trail."""
    return list(
        gradebook.session.scalars(select(Extension).where(Extension.user_id == user_id).order_by(Extension.id.desc()))
    )
