"""Regrade batches: started over some submissions (each gets a job whose record stays unpublished), listed, and
published. A batch is superseded once a later batch that regraded any of the same
submissions is published: a submission's current result is its latest published record, so publishing the older
batch afterwards would not change what its preview shows, and it is refused."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.db.base import utcnow
from grader.db.models import GradeRecord, GradingJob, RegradeBatch, Submission, User

BatchState = Literal["running", "ready", "published", "superseded"]


@dataclass(frozen=True)
class BatchSummary:
    id: int
    assignment_id: str
    submission_id: int | None  # None: every submission of the assignment
    requested_by: str
    requested_at: datetime
    published_at: datetime | None
    total_jobs: int
    done_jobs: int
    superseded_by: int | None

    @property
    def state(self) -> BatchState:
        if self.published_at is not None:
            return "published"
        if self.superseded_by is not None:
            return "superseded"
        return "ready" if self.done_jobs == self.total_jobs else "running"


def superseded_by(
    batch_id: int, regraded: Mapping[int, frozenset[int]], published: Mapping[int, datetime | None]
) -> int | None:
    """The first later, published batch that regraded one of this batch's submissions (None: not superseded)."""
    if published.get(batch_id) is not None:
        return None
    mine = regraded.get(batch_id, frozenset())
    return next(
        (
            later
            for later in sorted(regraded)
            if later > batch_id and published.get(later) is not None and regraded[later] & mine
        ),
        None,
    )


class Regrades:
    def __init__(self, session: Session) -> None:
        self.session = session

    def start(self, assignment_id: str, submissions: Sequence[Submission], by: User) -> tuple[RegradeBatch, list[int]]:
        batch = RegradeBatch(
            assignment_id=assignment_id,
            requested_by=by.id,
            submission_id=submissions[0].id if len(submissions) == 1 else None,
        )
        self.session.add(batch)
        self.session.flush()
        jobs = [GradingJob(submission_id=s.id, regrade_batch_id=batch.id, state="queued") for s in submissions]
        self.session.add_all(jobs)
        self.session.flush()
        return batch, [job.id for job in jobs]

    def batch(self, batch_id: int) -> RegradeBatch | None:
        return self.session.get(RegradeBatch, batch_id)

    def jobs(self, batch_id: int) -> list[GradingJob]:
        return list(self.session.scalars(select(GradingJob).where(GradingJob.regrade_batch_id == batch_id)))

    def records(self, batch_id: int) -> dict[int, GradeRecord]:
        records = self.session.scalars(
            select(GradeRecord)
            .join(GradingJob, GradeRecord.job_id == GradingJob.id)
            .where(GradingJob.regrade_batch_id == batch_id)
        )
        return {record.submission_id: record for record in records}

    def publish(self, batch: RegradeBatch) -> None:
        for record in self.records(batch.id).values():
            record.published = True
        batch.published_at = utcnow()

    def summaries(self) -> list[BatchSummary]:
        """Every batch, newest first, in two queries."""
        batches = self.session.execute(
            select(RegradeBatch, User.email)
            .join(User, User.id == RegradeBatch.requested_by)
            .order_by(RegradeBatch.id.desc())
        ).all()
        regraded: dict[int, set[int]] = {}
        done: dict[int, int] = {}
        total: dict[int, int] = {}
        for batch_id, submission_id, state in self.session.execute(
            select(GradingJob.regrade_batch_id, GradingJob.submission_id, GradingJob.state).where(
                GradingJob.regrade_batch_id.is_not(None)
            )
        ):
            regraded.setdefault(batch_id, set()).add(submission_id)
            total[batch_id] = total.get(batch_id, 0) + 1
            done[batch_id] = done.get(batch_id, 0) + (state == "done")
        frozen = {batch_id: frozenset(ids) for batch_id, ids in regraded.items()}
        published = {batch.id: batch.published_at for batch, _ in batches}
        return [
            BatchSummary(
                batch.id,
                batch.assignment_id,
                batch.submission_id,
                email,
                batch.requested_at,
                batch.published_at,
                total.get(batch.id, 0),
                done.get(batch.id, 0),
                superseded_by(batch.id, frozen, published),
            )
            for batch, email in batches
        ]

    def summary(self, batch_id: int) -> BatchSummary | None:
        return next((summary for summary in self.summaries() if summary.id == batch_id), None)
