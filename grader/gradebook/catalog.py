"""The course's assignments as the gradebook needs them, read from the course files."""

from __future__ import annotations

from grader.course_files import list_assignments, load_rubric
from grader.gradebook.report import CourseAssignment, ManualCriterion
from grader.gradebook.rules import CourseRules
from grader.settings import Settings


def course_assignments(settings: Settings, rules: CourseRules) -> list[CourseAssignment]:
    assignments = []
    for assignment in sorted(list_assignments(settings), key=lambda a: (len(a.id), a.id)):
        rubric = load_rubric(settings, assignment.id)
        assignments.append(CourseAssignment(
            id=assignment.id,
            title=assignment.title,
            deadline=assignment.deadline or rules.course_end,
            manual_criteria=tuple(ManualCriterion(c.id, c.title, c.points) for c in rubric.criteria if c.manual),
        ))
    return assignments
