"""Manual scores: points an instructor enters (manual rubric criteria, the defense, retake questions). Every entry is
kept as an audit trail; the latest one of an item counts."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.db.models import ManualScore, User

COURSE_LEVEL = ""  # assignment_id of manual items that belong to the course, not to one project
DEFENSE = "defense"
RETAKE_QUESTIONS = "retake_questions"


class ManualScores:
    def __init__(self, session: Session) -> None:
        self.session = session

    def enter(self, student: User, assignment_id: str, item: str, points: float, note: str, by: User) -> None:
        self.session.add(
            ManualScore(
                user_id=student.id,
                assignment_id=assignment_id,
                item=item,
                points=points,
                note=note,
                entered_by=by.id,
            )
        )

    def note(self, user_id: int, assignment_id: str, item: str) -> str:
        """The note of the latest entry: what the instructor told the student with the points."""
        return (
            self.session.scalar(
                select(ManualScore.note)
                .where(
                    ManualScore.user_id == user_id, ManualScore.assignment_id == assignment_id, ManualScore.item == item
                )
                .order_by(ManualScore.id.desc())
                .limit(1)
            )
            or ""
        )

    def points(self, user_id: int, assignment_id: str, item: str) -> float | None:
        return self.session.scalar(
            select(ManualScore.points)
            .where(ManualScore.user_id == user_id, ManualScore.assignment_id == assignment_id, ManualScore.item == item)
            .order_by(ManualScore.id.desc())
            .limit(1)
        )

    def entries(self, user_id: int | None = None) -> list[ManualScore]:
        query = select(ManualScore).order_by(ManualScore.id.desc())
        if user_id is not None:
            query = query.where(ManualScore.user_id == user_id)
        return list(self.session.scalars(query))
