"""The queue protocol every implementation (in-process threads, Celery) follows."""

from __future__ import annotations

from typing import Protocol


class GradingQueue(Protocol):
    def start(self) -> None:
        """Begin working; jobs left queued or running by a previous process are picked up again."""

    def enqueue(self, job_id: int) -> None:
        """Hand a committed job row to a worker. Never blocks on grading."""

    def stop(self) -> None:
        """Finish the job in hand, then return; queued jobs stay queued in the database."""
