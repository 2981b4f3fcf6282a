"""The review workflow: flagged pairs become cases an instructor confirms or dismisses with a comment.

The gradebook applies the course's plagiarism penalty to both students of a confirmed case (confirmed_cases_for).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from grader.db.base import utcnow
from grader.db.plagiarism_models import PlagiarismCase
from grader.domain.students import student_of

Status = Literal["flagged", "confirmed", "dismissed"]
DECISIONS: tuple[Status, ...] = ("confirmed", "dismissed")


class CaseNotFound(LookupError):
    pass


def flag_pairs(session: Session, assignment_id: str, pairs: Iterable[dict], threshold: float) -> list[PlagiarismCase]:
    """Opens a case for each pair (JSON records: a, b, score, channels) at or above threshold.

    A pair already under review keeps its decision; a still-flagged one gets the newer score.
    """
    flagged = []
    for pair in pairs:
        if pair["score"] < threshold:
            continue
        first, second = sorted((student_of(pair["a"]), student_of(pair["b"])))
        if first == second:
            continue
        case = session.scalar(
            select(PlagiarismCase).where(
                PlagiarismCase.assignment_id == assignment_id,
                PlagiarismCase.student_a == first,
                PlagiarismCase.student_b == second,
            )
        )
        if case is None:
            case = PlagiarismCase(
                assignment_id=assignment_id,
                student_a=first,
                student_b=second,
                score=pair["score"],
                channels=pair.get("channels", {}),
                status="flagged",
            )
            session.add(case)
        elif case.status == "flagged":
            case.score, case.channels = pair["score"], pair.get("channels", {})
        if case.status == "flagged":
            case.percentile, case.details = (
                pair.get("percentile"),
                _oriented(pair.get("details"), student_of(pair["a"]) != first),
            )
        flagged.append(case)
    session.flush()
    return flagged


def _oriented(details: dict | None, swapped: bool) -> dict | None:
    """The side-by-side view with student_a on the left, as the case names them."""
    if details is None or not swapped:
        return details
    return {**details, "left": details["right"], "right": details["left"]}


def decide(session: Session, case_id: int, status: Status, comment: str, instructor: str) -> PlagiarismCase:
    if status not in DECISIONS:
        raise ValueError(f"a decision is one of {', '.join(DECISIONS)}, not {status!r}")
    if not comment.strip():
        raise ValueError("a decision needs a comment")
    case = session.get(PlagiarismCase, case_id)
    if case is None:
        raise CaseNotFound(f"no plagiarism case {case_id}")
    case.status, case.comment, case.decided_by, case.decided_at = status, comment, instructor, utcnow()
    session.flush()
    return case


def cases(session: Session, assignment_id: str | None = None, status: Status | None = None) -> list[PlagiarismCase]:
    query = select(PlagiarismCase).order_by(PlagiarismCase.score.desc(), PlagiarismCase.id)
    if assignment_id is not None:
        query = query.where(PlagiarismCase.assignment_id == assignment_id)
    if status is not None:
        query = query.where(PlagiarismCase.status == status)
    return list(session.scalars(query))


def confirmed_cases_for(session: Session, student_id: str) -> list[PlagiarismCase]:
    """Confirmed cases in which the student is either side: each one penalises both students."""
    query = select(PlagiarismCase).where(
        PlagiarismCase.status == "confirmed",
        or_(PlagiarismCase.student_a == student_id, PlagiarismCase.student_b == student_id),
    )
    return list(session.scalars(query.order_by(PlagiarismCase.assignment_id, PlagiarismCase.id)))
