"""Celery over Redis: the queue for many grading hosts.

Exactly once into the gradebook, even when a worker dies mid-grade:
* the broker keeps a job's message until the task finished (late ack). A worker is one process running its gradings
  in threads, so a dead worker's messages stay unacknowledged until the broker's visibility timeout; long before that,
  a live worker's heartbeat thread finds the job's holder silent, puts the job back to 'queued' and sends it again
  (`grader.queue.heartbeat`);
* the job row is claimed atomically (`JobClaims.claim`), so a duplicate delivery of a job in hand does nothing;
* a delivery of a job left 'running' by a dead worker (its heartbeat stopped) puts it back to 'queued' itself and then
  claims it. While the holder still beats, the delivery waits and looks again; `grade_records.job_id` is unique,
  so even a holder wrongly taken for dead cannot write a second result.
"""

from __future__ import annotations

import enum
import logging
import threading

from celery import Celery
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from grader import course_files
from grader.db.models import GradingJob
from grader.db.worker_models import JobHolder
from grader.pipeline import grade_by_sha256
from grader.queue.claims import JobClaims
from grader.queue.heartbeat import MISSED_BEATS, holder_alive, live_workers, release_orphan
from grader.queue.identity import WorkerIdentity
from grader.queue.jobs import GradeFunction, execute_job
from grader.settings import Settings

TASK_NAME = "grader.grade_job"
CPU_QUEUE = "grading"
GPU_QUEUE = "gpu"

log = logging.getLogger(__name__)


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


def take_job(session: Session, settings: Settings, job_id: int, holder: JobHolder) -> bool:
    """Register `holder` for a queued job, or for a running one whose holders are all dead (then requeue it)."""
    job = session.get(GradingJob, job_id)
    if job is None or job.state == "done":
        return False
    if job.state == "running":
        if holder_alive(session, settings, job_id):
            raise JobHeld(job_id)
        if not release_orphan(session, settings, job):  # of two deliveries, one requeues it
            return False
    session.add(holder)
    return True


def deliver(
    job_id: int, settings: Settings, session_factory: sessionmaker, grade: GradeFunction, worker: WorkerIdentity
) -> Delivery:
    """What one worker thread does with one delivery of a job message."""
    holder = JobHolder(job_id=job_id, worker_name=worker.name, thread=str(threading.get_ident()))
    try:
        with session_factory.begin() as session:
            if not take_job(session, settings, job_id, holder):
                return Delivery.SKIPPED
    except JobHeld:
        return Delivery.HELD
    try:
        graded = execute_job(job_id, settings, session_factory, grade, worker)
    finally:
        with session_factory.begin() as session:
            session.execute(delete(JobHolder).where(JobHolder.id == holder.id))
    delivery = Delivery.GRADED if graded else Delivery.SKIPPED
    log.info("job %s %s by worker %s", job_id, delivery.value, worker.name)  # Celery's own lines name task ids only
    return delivery


def make_celery_app(
    settings: Settings,
    session_factory: sessionmaker,
    worker: WorkerIdentity | None = None,
    grade: GradeFunction = grade_by_sha256,
) -> Celery:
    """The producers' app (`worker` None: it only sends) or a worker's app (its tasks grade as `worker`)."""
    app = Celery("grader", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,  # a message leaves the broker only once its job was graded
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
        delivery = deliver(job_id, settings, session_factory, grade, worker or WorkerIdentity.of_this_process())
        if delivery is Delivery.HELD:
            raise task.retry(countdown=MISSED_BEATS * settings.heartbeat_s)
        return delivery.value

    return app


def send_job(app: Celery, settings: Settings, session_factory: sessionmaker, job_id: int) -> None:
    """Send a job's id to the queue its assignment's GPU policy routes it to."""
    with session_factory() as session:
        job = session.get(GradingJob, job_id)
        assignment_id = job.submission.assignment_id
        gpu_declared = any(worker.gpu for worker in live_workers(session, settings))
    gpu_policy = course_files.load_assignment(settings, assignment_id).gpu
    app.send_task(TASK_NAME, args=[job_id], queue=queue_for(gpu_policy, gpu_declared))


class CeleryQueue:
    """The producer side (web app, `grader batch`): sends job ids to the workers; grading happens in `grader worker`."""

    def __init__(self, settings: Settings, session_factory: sessionmaker) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.app = make_celery_app(settings, session_factory)

    def start(self) -> None:
        """Jobs left queued (e.g. a producer stopped before sending) are sent again; duplicates are harmless."""
        with self.session_factory() as session:
            job_ids = JobClaims(session).queued_ids()
        for job_id in job_ids:
            self.enqueue(job_id)

    def enqueue(self, job_id: int) -> None:
        send_job(self.app, self.settings, self.session_factory, job_id)

    def stop(self) -> None:
        """Nothing to finish here: the messages are in the broker and the workers grade them."""
