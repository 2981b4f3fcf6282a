"""Regrade batches as instructors list them. A batch is superseded once a later batch that regraded any of the same
submissions is published: a submission's current result is its latest published record, so publishing the older
batch afterwards would not change what its preview shows, and it is refused."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select

from grader.db.models import GradingJob, RegradeBatch, User
from grader.gradebook.repository import Gradebook

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


def superseded_by(batch_id: int, regraded: Mapping[int, frozenset[int]],
                  published: Mapping[int, datetime | None]) -> int | None:
    """The first later, published batch that regraded one of this batch's submissions (None: not superseded)."""
    if published.get(batch_id) is not None:
        return None
    mine = regraded.get(batch_id, frozenset())
    return next((later for later in sorted(regraded) if later > batch_id and published.get(later) is not None
                 and regraded[later] & mine), None)


def regrade_batches(gradebook: Gradebook) -> list[BatchSummary]:
    """Every batch, newest first, in two queries."""
    batches = gradebook.session.execute(
        select(RegradeBatch, User.email).join(User, User.id == RegradeBatch.requested_by)
        .order_by(RegradeBatch.id.desc())).all()
    regraded: dict[int, set[int]] = {}
    done: dict[int, int] = {}
    total: dict[int, int] = {}
    for batch_id, submission_id, state in gradebook.session.execute(
            select(GradingJob.regrade_batch_id, GradingJob.submission_id, GradingJob.state)
            .where(GradingJob.regrade_batch_id.is_not(None))):
        regraded.setdefault(batch_id, set()).add(submission_id)
        total[batch_id] = total.get(batch_id, 0) + 1
        done[batch_id] = done.get(batch_id, 0) + (state == "done")
    frozen = {batch_id: frozenset(ids) for batch_id, ids in regraded.items()}
    published = {batch.id: batch.published_at for batch, _ in batches}
    return [BatchSummary(batch.id, batch.assignment_id, batch.submission_id, email, batch.requested_at,
                         batch.published_at, total.get(batch.id, 0), done.get(batch.id, 0),
                         superseded_by(batch.id, frozen, published))
            for batch, email in batches]


def batch_summary(gradebook: Gradebook, batch_id: int) -> BatchSummary | None:
    return next((summary for summary in regrade_batches(gradebook) if summary.id == batch_id), None)
