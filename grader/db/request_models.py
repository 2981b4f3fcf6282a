"""Tables of regrade requests: a student asks for a review of one criterion of one submission; the thread of
messages follows, and an instructor's answer may override the criterion's points."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grader.db.base import Base, UtcDateTime, utcnow
from grader.db.models import Submission, User


class RegradeRequest(Base):
    __tablename__ = "regrade_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    criterion_id: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | answered
    # The latest override: the criterion's points instead of the automatic ones (`automatic_points`, kept to compute
    # the difference the submission's score moves by).
    override_points: Mapped[float | None] = mapped_column(Float)
    automatic_points: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    submission: Mapped[Submission] = relationship()


class RegradeMessage(Base):
    __tablename__ = "regrade_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("regrade_requests.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    override_points: Mapped[float | None] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    author: Mapped[User] = relationship()
