"""What the services run against: the settings, the course, the database and the grading queue."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy.orm import sessionmaker

from grader.gradebook.catalog import CourseCatalog
from grader.gradebook.group_commit import SubmissionRecorder
from grader.gradebook.report import GradebookAssignment
from grader.gradebook.repository import Gradebook
from grader.gradebook.rules import CourseRules
from grader.queue.base import GradingQueue
from grader.services.access import NotFound
from grader.settings import Settings


@dataclass(frozen=True)
class ServiceContext:
    settings: Settings
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

    def assignments(self) -> list[GradebookAssignment]:
        return self.catalog.assignments()

    def assignment(self, assignment_id: str) -> GradebookAssignment:
        for assignment in self.assignments():
            if assignment.id == assignment_id:
                return assignment
        raise NotFound(f"no assignment {assignment_id!r}")
