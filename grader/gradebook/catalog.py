"""The course's assignments as the gradebook needs them, read from the course files and kept until they change."""

from __future__ import annotations

import math
import threading
import time

from grader.course_files import list_assignments, load_rubric
from grader.gradebook.report import GradebookAssignment, ManualCriterion
from grader.gradebook.rules import CourseRules
from grader.settings import Settings

Stamp = tuple[tuple[str, int], ...]


def course_assignments(settings: Settings, rules: CourseRules) -> list[GradebookAssignment]:
    assignments = []
    for assignment in sorted(list_assignments(settings), key=lambda a: (len(a.id), a.id)):
        rubric = load_rubric(settings, assignment.id)
        assignments.append(
            GradebookAssignment(
                id=assignment.id,
                title=assignment.title,
                manual_criteria=tuple(ManualCriterion(c.id, c.title, c.points) for c in rubric.criteria if c.manual),
                spec=assignment,
                dates=rules.project_dates(assignment),
            )
        )
    return assignments


def _stamp(settings: Settings) -> Stamp:
    """Names and modification times of the files the catalog is read from: a few stat calls, no parsing."""
    files = [*settings.assignments_dir.glob("*/assignment.yaml"), *settings.rubrics_dir.glob("*.yaml")]
    return tuple(sorted((str(path), path.stat().st_mtime_ns) for path in files))


class CourseCatalog:
    """Parsing every assignment and rubric on each request costs more than the rest of an upload; re-read them only
    when one of those files changed. Even the change check (a glob and a stat per file) is done at most once per
    `recheck_s`: an upload burst asks for the assignments many times a second, an instructor's edit can wait a second."""

    def __init__(self, settings: Settings, rules: CourseRules, recheck_s: float = 1.0) -> None:
        self.settings = settings
        self.rules = rules
        self.recheck_s = recheck_s
        self._lock = threading.Lock()
        self._stamp: Stamp | None = None
        self._checked_at = -math.inf
        self._assignments: list[GradebookAssignment] = []

    def assignments(self) -> list[GradebookAssignment]:
        with self._lock:
            now = time.monotonic()
            if now - self._checked_at >= self.recheck_s:
                stamp = _stamp(self.settings)
                if stamp != self._stamp:
                    self._assignments = course_assignments(self.settings, self.rules)
                    self._stamp = stamp
                self._checked_at = now
            return list(self._assignments)
