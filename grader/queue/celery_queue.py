"""Celery over Redis: the queue for many grading hosts.

Exactly once into the gradebook, even when a worker dies mid-grade:
* the broker keeps a job's message until the task finished (late ack); a killed worker's message is redelivered
  after the visibility timeout (or at once, when a prefork child dies: reject on worker lost);
* the job row is claimed atomically (`Gradebook.claim_job`), so a duplicate delivery of a job in hand does nothing;
* a job left 'running' by a dead worker (its heartbeat stopped) is put back to 'queued' by the redelivery, which then
  claims it. While the holder still beats, the redelivery waits and looks again; `grade_records.job_id` is unique,
  so even a holder wrongly taken for dead cannot write a second result.
"""

from __future__ import annotations

import enum
import logging
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from os import getpid

from celery import Celery
from sqlalchemy import delete, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from grader import course_files
from grader.db.models import GradingJob, utcnow
from grader.db.worker_models import JobHolder, WorkerHeartbeat
from grader.gradebook.repository import Gradebook
from grader.pipeline import grade_stored
from grader.queue.base import GradingQueue
from grader.queue.database import DatabaseQueue
from grader.queue.inprocess import InProcessQueue
from grader.queue.jobs import GradeFunction, execute_job
from grader.settings import Settings

TASK_NAME = "grader.grade_job"
CPU_QUEUE = "grading"
GPU_QUEUE = "gpu"
MISSED_BEATS = 3  # a worker silent for this many heartbeats is taken for dead

log = logging.getLogger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{getpid()}"


def heartbeat_deadline(settings: Settings):
    return utcnow() - timedelta(seconds=MISSED_BEATS * settings.heartbeat_s)


def live_workers(session: Session, settings: Settings) -> list[WorkerHeartbeat]:
    return list(session.scalars(
        select(WorkerHeartbeat).where(WorkerHeartbeat.last_seen_at >= heartbeat_deadline(settings))
        .order_by(WorkerHeartbeat.name)
    ))


def worker_queues(gpu: bool) -> list[str]:
    """A GPU host takes GPU jobs first and CPU jobs when it has nothing else to do."""
    return [GPU_QUEUE, CPU_QUEUE] if gpu else [CPU_QUEUE]


def queue_for(gpu_policy: str, gpu_worker_declared: bool) -> str:
    """'required' always waits for a GPU host; 'optional' uses one when a live worker declared a GPU."""
    if gpu_policy == "required" or (gpu_policy == "optional" and gpu_worker_declared):
        return GPU_QUEUE
    return CPU_QUEUE


class Delivery(enum.Enum):
    GRADED = "graded"
    SKIPPED = "skipped"  # done already, or another thread claimed it first
    HELD = "held"  # a live worker is grading it; look again later


class JobHeld(Exception):
    """The job is running on a worker that still beats."""


def _holder_alive(session: Session, settings: Settings, job_id: int) -> bool:
    return session.scalar(
        select(JobHolder.id).join(WorkerHeartbeat, WorkerHeartbeat.name == JobHolder.worker_name)
        .where(JobHolder.job_id == job_id, WorkerHeartbeat.last_seen_at >= heartbeat_deadline(settings)).limit(1)
    ) is not None


def take_job(session: Session, settings: Settings, job_id: int, holder: JobHolder) -> bool:
    """Register `holder` for a queued job, or for a running one whose holders are all dead (then requeue it)."""
    job = session.get(GradingJob, job_id)
    if job is None or job.state == "done":
        return False
    if job.state == "running":
        if _holder_alive(session, settings, job_id):
            raise JobHeld(job_id)
        requeued = session.execute(  # compare-and-set: of two redeliveries, one requeues it
            update(GradingJob)
            .where(GradingJob.id == job_id, GradingJob.state == "running", GradingJob.started_at == job.started_at)
            .values(state="queued", started_at=None)
        ).rowcount
        if not requeued:
            return False
        session.execute(delete(JobHolder).where(JobHolder.job_id == job_id))  # the dead holders' rows
    session.add(holder)
    return True


def deliver(job_id: int, settings: Settings, session_factory: sessionmaker, grade: GradeFunction) -> Delivery:
    """What one worker thread does with one delivery of a job message."""
    holder = JobHolder(job_id=job_id, worker_name=worker_name(), thread=str(threading.get_ident()))
    try:
        with session_factory.begin() as session:
            if not take_job(session, settings, job_id, holder):
                return Delivery.SKIPPED
    except JobHeld:
        return Delivery.HELD
    try:
        graded = execute_job(job_id, settings, session_factory, grade)
    finally:
        with session_factory.begin() as session:
            session.execute(delete(JobHolder).where(JobHolder.id == holder.id))
    return Delivery.GRADED if graded else Delivery.SKIPPED


def make_celery_app(settings: Settings, session_factory: sessionmaker, grade: GradeFunction = grade_stored) -> Celery:
    app = Celery("grader", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,  # a message leaves the broker only once its job was graded
        task_reject_on_worker_lost=True,  # a prefork child killed mid-grade returns its message at once
        worker_prefetch_multiplier=1,  # a prefetched message would count towards the visibility timeout unstarted
        task_ignore_result=True,  # results live in the gradebook
        task_default_queue=CPU_QUEUE,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": settings.visibility_timeout_s,
            # how often a worker looks for messages of dead workers past their visibility timeout
            "unacked_restore_interval": max(1, min(10, settings.visibility_timeout_s // 4)),
            "unacked_restore_throttle": 1,
        },
        worker_hijack_root_logger=False,
    )

    @app.task(name=TASK_NAME, bind=True, max_retries=None)
    def grade_job(task, job_id: int) -> str:
        delivery = deliver(job_id, settings, session_factory, grade)
        if delivery is Delivery.HELD:
            raise task.retry(countdown=MISSED_BEATS * settings.heartbeat_s)
        return delivery.value

    return app


class CeleryQueue:
    """The producer side (web app, `grader batch`): sends job ids to the workers; grading happens in `grader worker`."""

    def __init__(self, settings: Settings, session_factory: sessionmaker) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.app = make_celery_app(settings, session_factory)

    def start(self) -> None:
        """Jobs left queued (e.g. a producer stopped before sending) are sent again; duplicates are harmless."""
        with self.session_factory() as session:
            job_ids = Gradebook(session).queued_job_ids()
        for job_id in job_ids:
            self.enqueue(job_id)

    def enqueue(self, job_id: int) -> None:
        with self.session_factory() as session:
            job = session.get(GradingJob, job_id)
            assignment_id = job.submission.assignment_id
            gpu_declared = any(worker.gpu for worker in live_workers(session, self.settings))
        gpu_policy = course_files.load_assignment(self.settings, assignment_id).gpu
        self.app.send_task(TASK_NAME, args=[job_id], queue=queue_for(gpu_policy, gpu_declared))

    def stop(self) -> None:
        """Nothing to finish here: the messages are in the broker and the workers grade them."""


def queue_from_settings(settings: Settings, session_factory: sessionmaker) -> GradingQueue:
    """`Settings.queue`: the embedded thread pool (default), or Celery workers on other hosts."""
    if settings.queue == "celery":
        return CeleryQueue(settings, session_factory)
    return InProcessQueue(settings, session_factory)


def web_process_queue(settings: Settings, session_factory: sessionmaker) -> GradingQueue:
    """The queue of a `grader serve` web process, which never grades: Celery workers on other hosts, or (embedded)
    the grading process that `grader serve` starts beside the web processes."""
    if settings.queue == "celery":
        return CeleryQueue(settings, session_factory)
    return DatabaseQueue(settings, session_factory)


class Heartbeat:
    """A thread that keeps this worker's heartbeat row fresh; the dashboard lists the rows."""

    def __init__(self, settings: Settings, session_factory: sessionmaker, queues: list[str], gpu: bool,
                 concurrency: int) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.row = WorkerHeartbeat(name=worker_name(), hostname=socket.gethostname(), queues=",".join(queues),
                                   gpu=gpu, concurrency=concurrency)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="grader-heartbeat", daemon=True)

    def start(self) -> None:
        self.beat()
        self._thread.start()

    def beat(self) -> None:
        with self.session_factory.begin() as session:
            row = session.get(WorkerHeartbeat, self.row.name)
            if row is None:
                session.add(WorkerHeartbeat(name=self.row.name, hostname=self.row.hostname, queues=self.row.queues,
                                            gpu=self.row.gpu, concurrency=self.row.concurrency))
            else:
                row.last_seen_at = utcnow()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self.settings.heartbeat_s):
            try:
                self.beat()
            except SQLAlchemyError:  # a database hiccup must not stop the beats for good
                log.exception("heartbeat of %s failed", self.row.name)


@dataclass(frozen=True)
class WorkerStatus:
    name: str
    queues: str
    gpu: bool
    concurrency: int
    last_seen_at: datetime
    alive: bool


def worker_statuses(session_factory: sessionmaker, settings: Settings) -> list[WorkerStatus]:
    """Every worker that ever beat, newest beat first; `alive` when it beat within the last missed-beats window."""
    deadline = heartbeat_deadline(settings)
    with session_factory() as session:
        rows = session.scalars(select(WorkerHeartbeat).order_by(WorkerHeartbeat.last_seen_at.desc()))
        return [WorkerStatus(row.name, row.queues, row.gpu, row.concurrency, row.last_seen_at,
                             row.last_seen_at >= deadline) for row in rows]
