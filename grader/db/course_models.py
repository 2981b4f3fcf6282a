"""Tables of the course calendar: per-student extensions of a project's dates (grader/gradebook/extensions.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grader.db.base import Base, UtcDateTime, utcnow
from grader.db.models import User


class Extension(Base):
    """Days an instructor grants one student for one project. Never updated: the latest grant for a (student,
    assignment) is in force (0 withdraws it) and the earlier ones are the audit trail."""

    __tablename__ = "extensions"
    __table_args__ = (Index("ix_extensions_key", "user_id", "assignment_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assignment_id: Mapped[str] = mapped_column(String(64))
    days: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    granted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    student: Mapped[User] = relationship(foreign_keys=[user_id])
    instructor: Mapped[User] = relationship(foreign_keys=[granted_by])
