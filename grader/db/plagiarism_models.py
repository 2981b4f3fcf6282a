"""Plagiarism review tables: cases an instructor confirms or dismisses, and detector runs asked for on the dashboard."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from grader.db.base import Base, UtcDateTime, utcnow


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
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PlagiarismRun(Base):
    """A detector run over one project's counting attempts, asked for on the dashboard and carried out by the
    grading process (grader/plagiarism/runs.py)."""

    __tablename__ = "plagiarism_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[str] = mapped_column(String(100))
    requested_by: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)  # queued | running | done | failed
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)  # what it found, or why it failed
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
