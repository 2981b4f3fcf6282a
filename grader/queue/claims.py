"""Job claiming over the jobs table: queued -> running (atomically, so one worker gets a job) -> done with its result,
and running jobs put back after a crash."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from grader.db.base import utcnow
from grader.db.models import GradeRecord, GradingJob


class JobClaims:
    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(self, job_id: int) -> GradingJob | None:
        """queued -> running, atomically: of two workers handed the same id, only one gets it."""
        claimed = self.session.execute(
            update(GradingJob)
            .where(GradingJob.id == job_id, GradingJob.state == "queued")
            .values(state="running", started_at=utcnow())
        ).rowcount
        return self.session.get(GradingJob, job_id) if claimed else None

    def finish(self, job: GradingJob, result: dict[str, Any] | None, error: str | None) -> None:
        """The job is done; its result (if any) is recorded, published at once unless a regrade batch holds it."""
        job.state = "done"
        job.finished_at = utcnow()
        job.error = error
        if result is not None:
            self.session.add(
                GradeRecord(
                    submission_id=job.submission_id,
                    job_id=job.id,
                    status=result["status"],
                    score=float(result.get("score", 0.0)),
                    max_score=float(result.get("max_score", 0.0)),
                    result=result,
                    published=job.regrade_batch_id is None,
                )
            )

    def requeue_interrupted(self) -> int:
        """After a crash, a job left 'running' never finished: put it back in the queue."""
        return self.session.execute(
            update(GradingJob).where(GradingJob.state == "running").values(state="queued", started_at=None)
        ).rowcount

    def queued_ids(self) -> list[int]:
        return list(
            self.session.scalars(select(GradingJob.id).where(GradingJob.state == "queued").order_by(GradingJob.id))
        )
