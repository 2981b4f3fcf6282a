"""The plagiarism review's verdicts as the gradebook reads them: flagged and confirmed cases, and the keys they name a
student by."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.db.models import User
from grader.db.plagiarism_models import PlagiarismCase


@dataclass(frozen=True)
class PlagiarismFlag:
    case_id: int
    assignment_id: str
    student_a: str
    student_b: str
    score: float
    status: str


def student_keys(user: User) -> set[str]:
    """How the plagiarism cases may name a student: their e-mail or their student number."""
    return {key for key in (user.email, user.student_number) if key}


def plagiarism_flags(session: Session) -> list[PlagiarismFlag]:
    cases = session.scalars(
        select(PlagiarismCase).where(PlagiarismCase.status.in_(("flagged", "confirmed"))).order_by(PlagiarismCase.id)
    )
    return [PlagiarismFlag(c.id, c.assignment_id, c.student_a, c.student_b, c.score, c.status) for c in cases]
