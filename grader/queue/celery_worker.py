"""A Celery worker process (`grader worker`): grades jobs from the broker into the gradebook on this host's sandbox,
beats so that live workers can requeue a dead one's jobs, and serves the dashboard's detector runs."""

from __future__ import annotations

import math
import os
import threading

from grader import course_files
from grader.db.base import make_engine, make_session_factory
from grader.db.migrations import upgrade_to_head
from grader.plagiarism.runs import serve_runs
from grader.queue.celery_queue import make_celery_app, send_job, worker_queues
from grader.queue.heartbeat import Heartbeat
from grader.queue.identity import WorkerIdentity
from grader.sandbox.gpu import host_gpu_model, require_gpu
from grader.sandbox.select import select_backend
from grader.settings import Settings


def worker_settings(settings: Settings, gpu: bool) -> Settings:
    """A worker without `gpu` takes no GPU queue, so its gradings must not hold the host's GPU slots either: every run
    on the CPU. With `gpu` it takes the queue of assignments that need one, so a sandbox that cannot pass one (no GPU,
    a CPU-only image, no slots) raises `SandboxError` saying why, before the worker starts, instead of failing every
    such job."""
    if not gpu:
        return settings.model_copy(update={"sandbox_device": "cpu"})
    require_gpu(select_backend(settings, "docker"))
    return settings


def default_slots(settings: Settings, cores: int) -> int:
    """One grading slot per `limits.cpus` of the most demanding assignment: more slots than that would make the
    sandboxes share cores their limits promised them. At least one."""
    cpus = max((assignment.limits.cpus for assignment in course_files.list_assignments(settings)), default=1.0)
    return max(1, math.floor(cores / cpus))


def run_celery_worker(settings: Settings, gpu: bool, slots: int) -> None:
    """Grade with `slots` sandboxes at once until stopped. `gpu`: this host passes a GPU to the sandbox, so the worker
    takes the GPU queue first and names the GPU's model on its jobs."""
    upgrade_to_head(settings.effective_database_url)
    engine = make_engine(settings.effective_database_url)
    session_factory = make_session_factory(engine)
    identity = WorkerIdentity.of_this_process(host_gpu_model() if gpu else None)
    queues = worker_queues(gpu)
    app = make_celery_app(settings, session_factory, identity)
    heartbeat = Heartbeat(
        settings,
        session_factory,
        identity,
        queues,
        slots,
        resend=lambda job_id: send_job(app, settings, session_factory, job_id),
    )
    heartbeat.start()
    # Detector runs asked for on the dashboard: with Celery there is no grading process, so every worker serves them.
    stop_runs = threading.Event()
    threading.Thread(
        target=serve_runs, args=(settings, session_factory, stop_runs), name="grader-plagiarism", daemon=True
    ).start()
    try:
        # threads: every sandbox is its own process already, and one process means one heartbeat covers all the
        # worker's jobs; a SIGKILL takes the whole worker down, and the live workers' heartbeat threads requeue its jobs
        app.worker_main(
            [
                "worker",
                "--pool=threads",
                f"--concurrency={slots}",
                f"--queues={','.join(queues)}",
                f"--hostname=grader.{os.getpid()}@%h",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
            ]
        )
    finally:
        stop_runs.set()
        heartbeat.stop()
        engine.dispose()
