"""The queue of `grader serve`'s web processes: the committed `queued` job row is the message. The grading process
polls the database for such rows (`grader.queue.inprocess.grade_until_stopped`), so any number of web processes can
take uploads while one process grades."""

from __future__ import annotations

from sqlalchemy.orm import sessionmaker

from grader.settings import Settings


class DatabaseQueue:
    def __init__(self, settings: Settings, session_factory: sessionmaker) -> None:
        """Built like every queue (`QueueFactory`); it needs neither: the web process already committed the row."""

    def start(self) -> None:
        """Nothing to start: grading happens in the grading process."""

    def enqueue(self, job_id: int) -> None:
        """Nothing to send: the job row was committed as queued before this call, and the grading process polls."""

    def stop(self) -> None:
        """Nothing to finish here."""
