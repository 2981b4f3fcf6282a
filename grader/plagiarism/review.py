"""The review workflow: flagged pairs become cases an instructor confirms or dismisses with a comment.

The gradebook applies the course's plagiarism penalty to both students of a confirmed case (confirmed_cases_for).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Literal

from sqlalchemy import JSON, DateTime, Float, Integer, String, Text, UniqueConstraint, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from grader.db.base import Base
from grader.domain.students import student_of

Status = Literal["flagged", "confirmed", "dismissed"]
DECISIONS: tuple[Status, ...] = ("confirmed", "dismissed")


def _now() -> datetime:
    return datetime.now(timezone.utc)


class PlagiarismCase(Base):
    __tablename__ = "plagiarism_cases"
    __table_args__ = (UniqueConstraint("assignment_id", "student_a", "student_b", name="uq_plagiarism_case_pair"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[str] = mapped_column(String(100), index=True)
    student_a: Mapped[str] = mapped_column(String(255), index=True)  # the smaller of the two ids, so a pair has one row
    student_b: Mapped[str] = mapped_column(String(255), index=True)
    score: Mapped[float] = mapped_column(Float)
    channels: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="flagged", index=True)
    percentile: Mapped[float | None] = mapped_column(Float, nullable=True)  # share of the cohort's pairs scoring lower
    details: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # the report's side-by-side view (see flag_pairs)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class PlagiarismRun(Base):
    """A detector run over one project's counting attempts, asked for on the dashboard and carried out by the
    grading process (grader/plagiarism/runs.py)."""

    __tablename__ = "plagiarism_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[str] = mapped_column(String(100))
    requested_by: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)  # queued | running | done | failed
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)  # what it found, or why it failed
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


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
        case = session.scalar(select(PlagiarismCase).where(PlagiarismCase.assignment_id == assignment_id, PlagiarismCase.student_a == first, PlagiarismCase.student_b == second))
        if case is None:
            case = PlagiarismCase(assignment_id=assignment_id, student_a=first, student_b=second, score=pair["score"], channels=pair.get("channels", {}), status="flagged")
            session.add(case)
        elif case.status == "flagged":
            case.score, case.channels = pair["score"], pair.get("channels", {})
        if case.status == "flagged":
            case.percentile, case.details = pair.get("percentile"), _oriented(pair.get("details"), student_of(pair["a"]) != first)
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
    case.status, case.comment, case.decided_by, case.decided_at = status, comment, instructor, _now()
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
        PlagiarismCase.status == "confirmed", or_(PlagiarismCase.student_a == student_id, PlagiarismCase.student_b == student_id)
    )
    return list(session.scalars(query.order_by(PlagiarismCase.assignment_id, PlagiarismCase.id)))
