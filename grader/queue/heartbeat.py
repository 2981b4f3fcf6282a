"""Worker liveness: heartbeat rows, which workers are alive, and the jobs a dead worker left behind.

A worker is alive while its row is younger than `MISSED_BEATS` heartbeat intervals. Every worker's heartbeat thread
also looks, twice per interval, for jobs whose holders are all dead, puts each back to 'queued' (compare-and-set: of
several workers looking, one does) and sends it to the broker again, so a dead host's job is graded again within a few
seconds instead of after the broker's visibility timeout. The dead worker's own message still comes back after that
timeout and finds the job done or held.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from grader.db.base import utcnow
from grader.db.models import GradingJob
from grader.db.worker_models import JobHolder, WorkerHeartbeat
from grader.queue.identity import WorkerIdentity
from grader.settings import Settings

# Two silent intervals: one late beat is tolerated, and a dead worker's job is back within about three intervals.
MISSED_BEATS = 2
REAPS_PER_BEAT = 2

log = logging.getLogger(__name__)


def heartbeat_deadline(settings: Settings) -> datetime:
    return utcnow() - timedelta(seconds=MISSED_BEATS * settings.heartbeat_s)


def live_workers(session: Session, settings: Settings) -> list[WorkerHeartbeat]:
    return list(
        session.scalars(
            select(WorkerHeartbeat)
            .where(WorkerHeartbeat.last_seen_at >= heartbeat_deadline(settings))
            .order_by(WorkerHeartbeat.name)
        )
    )


def _live_holders(settings: Settings, *columns):
    return (
        select(*columns)
        .join(WorkerHeartbeat, WorkerHeartbeat.name == JobHolder.worker_name)
        .where(WorkerHeartbeat.last_seen_at >= heartbeat_deadline(settings))
    )


def _jobs_with_a_live_holder(settings: Settings):
    return _live_holders(settings, JobHolder.job_id)


def holder_alive(session: Session, settings: Settings, job_id: int) -> bool:
    return session.scalar(_jobs_with_a_live_holder(settings).where(JobHolder.job_id == job_id).limit(1)) is not None


def orphaned_job_ids(session: Session, settings: Settings, among: Sequence[int] | None = None) -> list[int]:
    """Unfinished jobs that a worker took and no live worker holds: their holders died (or were pruned)."""
    query = (
        select(JobHolder.job_id)
        .join(GradingJob, GradingJob.id == JobHolder.job_id)
        .where(GradingJob.state != "done", JobHolder.job_id.not_in(_jobs_with_a_live_holder(settings)))
        .distinct()
        .order_by(JobHolder.job_id)
    )
    if among is not None:
        query = query.where(JobHolder.job_id.in_(among))
    return list(session.scalars(query))


def release_orphan(session: Session, settings: Settings, job: GradingJob) -> bool:
    """Put a job whose holders are all dead back to 'queued' and drop their rows. False when another worker did it
    first (the compare-and-set on the job's state and start, or on the dead holders' rows, lost)."""
    if job.state == "running":
        released = session.execute(
            update(GradingJob)
            .where(GradingJob.id == job.id, GradingJob.state == "running", GradingJob.started_at == job.started_at)
            .values(state="queued", started_at=None)
        ).rowcount
        if released:
            session.execute(delete(JobHolder).where(JobHolder.job_id == job.id))
        return bool(released)
    # still queued: a worker may be registering as its holder right now; only the dead holders' rows go
    return bool(
        session.execute(
            delete(JobHolder).where(
                JobHolder.job_id == job.id, JobHolder.id.not_in(_live_holders(settings, JobHolder.id))
            )
        ).rowcount
    )


def requeue_orphans(session_factory: sessionmaker, settings: Settings) -> list[int]:
    """Release every orphaned job; return the ids this call released (each must be sent to the broker again)."""
    released = []
    with session_factory() as session:
        candidates = orphaned_job_ids(session, settings)
    for job_id in candidates:
        with session_factory.begin() as session:
            job = session.get(GradingJob, job_id)
            if (
                job is not None
                and job.state != "done"
                and not holder_alive(session, settings, job_id)
                and release_orphan(session, settings, job)
            ):
                released.append(job_id)
    return released


def prune_heartbeats(session: Session, settings: Settings) -> int:
    """Forget workers silent for longer than `Settings.worker_forget_after_s` (each restart adds a row)."""
    cutoff = utcnow() - timedelta(seconds=settings.worker_forget_after_s)
    return session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.last_seen_at < cutoff)).rowcount


class Heartbeat:
    """A thread that keeps this worker's heartbeat row fresh, forgets long-dead workers, and sends dead workers'
    jobs to the broker again through `resend`."""

    def __init__(
        self,
        settings: Settings,
        session_factory: sessionmaker,
        identity: WorkerIdentity,
        queues: list[str],
        concurrency: int,
        resend: Callable[[int], None],
    ) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.identity = identity
        self.queues = ",".join(queues)
        self.concurrency = concurrency
        self.resend = resend
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="grader-heartbeat", daemon=True)

    def start(self) -> None:
        self.beat()
        self._thread.start()

    def beat(self) -> None:
        with self.session_factory.begin() as session:
            row = session.get(WorkerHeartbeat, self.identity.name)
            if row is None:
                session.add(
                    WorkerHeartbeat(
                        name=self.identity.name,
                        hostname=self.identity.host,
                        queues=self.queues,
                        gpu=self.identity.gpu is not None,
                        concurrency=self.concurrency,
                    )
                )
            else:
                row.last_seen_at = utcnow()
            prune_heartbeats(session, self.settings)

    def reap(self) -> None:
        for job_id in requeue_orphans(self.session_factory, self.settings):
            log.warning("job %s: its worker stopped beating; sent to the queue again", job_id)
            self.resend(job_id)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        tick = 0
        while not self._stop.wait(self.settings.heartbeat_s / REAPS_PER_BEAT):
            tick += 1
            try:
                if tick % REAPS_PER_BEAT == 0:
                    self.beat()
                self.reap()
            except SQLAlchemyError:  # a database hiccup must not stop the beats for good
                log.exception("heartbeat of %s failed", self.identity.name)


@dataclass(frozen=True)
class WorkerStatus:
    name: str
    queues: str
    gpu: bool
    concurrency: int
    last_seen_at: datetime
    alive: bool


def worker_statuses(session_factory: sessionmaker, settings: Settings) -> list[WorkerStatus]:
    """Workers that beat within `Settings.worker_forget_after_s`, newest beat first; `alive` when within the last
    missed-beats window."""
    deadline = heartbeat_deadline(settings)
    forgotten = utcnow() - timedelta(seconds=settings.worker_forget_after_s)
    with session_factory() as session:
        rows = session.scalars(
            select(WorkerHeartbeat)
            .where(WorkerHeartbeat.last_seen_at >= forgotten)
            .order_by(WorkerHeartbeat.last_seen_at.desc())
        )
        return [
            WorkerStatus(row.name, row.queues, row.gpu, row.concurrency, row.last_seen_at, row.last_seen_at >= deadline)
            for row in rows
        ]


@dataclass(frozen=True)
class GradingCapacity:
    """What a waiting batch needs to know about the workers."""

    live_workers: int
    waiting_for_dead_holder: int  # jobs of the batch whose worker died; back in the queue at the next reap


def grading_capacity(session_factory: sessionmaker, settings: Settings, job_ids: Sequence[int]) -> GradingCapacity:
    with session_factory() as session:
        return GradingCapacity(len(live_workers(session, settings)), len(orphaned_job_ids(session, settings, job_ids)))
