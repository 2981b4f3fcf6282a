"""Tables of the scale-out: worker heartbeats, which worker holds which job, and batch runs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from grader.db.base import Base, UtcDateTime, utcnow


class WorkerHeartbeat(Base):
    """One row per worker process; `last_seen_at` is refreshed every `Settings.heartbeat_s` while it lives."""

    __tablename__ = "worker_heartbeats"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)  # hostname:pid
    hostname: Mapped[str] = mapped_column(String(255))
    queues: Mapped[str] = mapped_column(String(255))  # comma-separated Celery queue names
    gpu: Mapped[bool] = mapped_column(Boolean)
    concurrency: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)


class JobHolder(Base):
    """A delivery of a job to one worker thread. A 'running' job whose holders' workers all stopped heart-beating was
    orphaned by a dead worker, and the next delivery of its message may take it over."""

    __tablename__ = "job_holders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("grading_jobs.id"), index=True)
    worker_name: Mapped[str] = mapped_column(String(255))
    thread: Mapped[str] = mapped_column(String(64))
    since: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class BatchRun(Base):
    """One `grader batch` invocation, for the audit trail; the grading itself lives in submissions and jobs."""

    __tablename__ = "batch_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[str] = mapped_column(String(64), index=True)
    assignment_version: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(1024))
    students: Mapped[int] = mapped_column(Integer)
    queued: Mapped[int] = mapped_column(Integer)  # jobs this run created or resumed; the rest were already graded
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
