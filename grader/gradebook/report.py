"""Standings of students over the course's assignments: the dashboard rows, regrade previews and the CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from grader.db.models import GradeRecord, User
from grader.domain.assignment import Assignment
from grader.gradebook.compute import Standing, counting_attempt, project_score, standing
from grader.gradebook.extensions import extension_days
from grader.gradebook.manual_scores import COURSE_LEVEL, DEFENSE, RETAKE_QUESTIONS
from grader.gradebook.plagiarism_flags import PlagiarismFlag, plagiarism_flags, student_keys
from grader.gradebook.repository import Gradebook
from grader.gradebook.rules import CourseRules, ProjectDates, lateness
from grader.gradebook.submissions import Snapshot


@dataclass(frozen=True)
class ManualCriterion:
    id: str
    title: str
    points: float


@dataclass(frozen=True)
class GradebookAssignment:
    """An assignment as the gradebook's pages and CSV show it; the pipeline grades with `GradingMaterials`."""

    id: str
    title: str
    manual_criteria: tuple[ManualCriterion, ...]
    spec: Assignment  # as loaded from assignment.yaml: what intake checks an upload against
    dates: ProjectDates  # of a student without an extension

    @property
    def deadline(self) -> datetime | None:
        """The due date of a student without an extension."""
        return self.dates.due


@dataclass(frozen=True)
class StudentRow:
    user: User
    standing: Standing
    questions_answered: int
    flags: tuple[PlagiarismFlag, ...]


def confirmed_assignments(user: User, flags: Sequence[PlagiarismFlag]) -> set[str]:
    keys = student_keys(user)
    return {
        flag.assignment_id
        for flag in flags
        if flag.status == "confirmed" and (flag.student_a in keys or flag.student_b in keys)
    }


def flags_of(user: User, flags: Sequence[PlagiarismFlag]) -> tuple[PlagiarismFlag, ...]:
    keys = student_keys(user)
    return tuple(flag for flag in flags if flag.student_a in keys or flag.student_b in keys)


def manual_points(snapshot: Snapshot, user: User, assignment: GradebookAssignment) -> float:
    return sum(
        snapshot.manual_points(user.id, assignment.id, criterion.id) or 0.0 for criterion in assignment.manual_criteria
    )


def student_standing(
    snapshot: Snapshot,
    user: User,
    assignments: Sequence[GradebookAssignment],
    rules: CourseRules,
    flags: Sequence[PlagiarismFlag],
    extensions: dict[tuple[int, str], int],
    overlay: dict[int, GradeRecord] | None = None,
) -> Standing:
    penalized = confirmed_assignments(user, flags)
    projects = []
    for assignment in assignments:
        dates = rules.project_dates(assignment.spec, extensions.get((user.id, assignment.id), 0))
        counting = counting_attempt(snapshot.attempts(user.id, assignment.id, overlay), dates, rules)
        projects.append(
            project_score(
                assignment.id,
                counting,
                manual_points(snapshot, user, assignment),
                assignment.id in penalized,
                rules,
                lateness(counting.submitted_at, dates, rules) if counting else None,
            )
        )
    defense = snapshot.manual_points(user.id, COURSE_LEVEL, DEFENSE)
    return standing(projects, defense, questions_answered(snapshot, user), rules)


def questions_answered(snapshot: Snapshot, user: User) -> int:
    return int(snapshot.manual_points(user.id, COURSE_LEVEL, RETAKE_QUESTIONS) or 0)


def gradebook_rows(
    gradebook: Gradebook, assignments: Sequence[GradebookAssignment], rules: CourseRules
) -> list[StudentRow]:
    flags = plagiarism_flags(gradebook.session)
    snapshot = gradebook.submissions.snapshot()
    extensions = extension_days(gradebook)
    return [
        StudentRow(
            user,
            student_standing(snapshot, user, assignments, rules, flags, extensions),
            questions_answered(snapshot, user),
            flags_of(user, flags),
        )
        for user in gradebook.accounts.students()
    ]


def _points(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def grades_csv(rows: Sequence[StudentRow], assignments: Sequence[GradebookAssignment]) -> str:
    """One line per student, for the university's system: projects, defense, total out of 100, pass, retake, and the
    projects whose points a confirmed plagiarism case took (already deducted from them)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "student_number",
            "email",
            "name",
            *(a.id for a in assignments),
            "homework",
            "defense",
            "total",
            "passed",
            "retake_eligible",
            "plagiarism_penalty",
        ]
    )
    for row in rows:
        projects = {project.assignment_id: project for project in row.standing.projects}
        writer.writerow(
            [
                row.user.student_number or "",
                row.user.email,
                row.user.name,
                *(_points(projects[a.id].points) for a in assignments),
                _points(row.standing.homework),
                _points(row.standing.defense),
                _points(row.standing.total),
                "yes" if row.standing.passed else "no",
                "yes" if row.standing.retake_eligible else "no",
                " ".join(project.assignment_id for project in row.standing.projects if project.penalized),
            ]
        )
    return out.getvalue()
