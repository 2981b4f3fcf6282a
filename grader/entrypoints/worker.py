"""`grader worker`: a Celery worker that grades jobs from the Redis broker on this host's sandbox (Docker engine)."""

from __future__ import annotations

import logging
import math
import os
import threading
from typing import Optional

import typer

from grader.settings import Settings


def default_slots(settings: Settings, cores: int) -> int:
    """One grading slot per `limits.cpus` of the most demanding assignment: more slots than that would make the
    sandboxes share cores their limits promised them. At least one."""
    from grader import course_files

    cpus = max((assignment.limits.cpus for assignment in course_files.list_assignments(settings)), default=1.0)
    return max(1, math.floor(cores / cpus))


def refuse_without_a_usable_gpu(settings: Settings) -> None:
    """`--gpu` takes the queue of assignments that need a GPU: a worker whose sandbox cannot pass one (no GPU, a
    CPU-only image, no slots) says why and does not start, instead of failing every such job."""
    from grader.sandbox.base import SandboxError
    from grader.sandbox.select import select_backend

    try:
        choice = select_backend(settings, "docker").device_choice("required")
    except SandboxError as error:
        typer.echo(f"grader worker --gpu: {error}", err=True)
        raise typer.Exit(2) from error
    if choice.device != "cuda":
        typer.echo(f"grader worker --gpu: {choice.reason}", err=True)
        raise typer.Exit(2)


def worker(
    gpu: bool = typer.Option(False, "--gpu", help="this host passes a GPU to the sandbox: take GPU assignments too"),
    concurrency: Optional[int] = typer.Option(None, "--concurrency", "-c", min=1,
                                              help="sandboxes at once (default: GRADER_WORKERS, else the cores "
                                                   "divided by the assignments' largest limits.cpus)"),
) -> None:
    """Grade jobs from the broker (GRADER_BROKER_URL) into the gradebook (GRADER_DATABASE_URL) until stopped."""
    # Imported here: every `grader` call loads this module (grader/entrypoints/cli.py)
    from grader.db.base import make_engine, make_session_factory
    from grader.db.migrations import upgrade_to_head
    from grader.plagiarism.runs import serve_runs
    from grader.queue.celery_queue import make_celery_app, send_job, worker_queues
    from grader.queue.heartbeat import Heartbeat
    from grader.queue.identity import WorkerIdentity
    from grader.sandbox.gpu import host_gpu_model

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # the grader's own lines (which job, which worker, takeovers) beside Celery's, which name task ids only
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s: %(levelname)s/%(name)s] %(message)s")
    settings = Settings()
    if not gpu:  # it takes no GPU queue, so its gradings must not hold the host's GPU slots either
        settings = settings.model_copy(update={"sandbox_device": "cpu"})
    else:
        refuse_without_a_usable_gpu(settings)
    slots = concurrency or settings.workers or default_slots(settings, os.cpu_count() or 1)
    upgrade_to_head(settings.effective_database_url)
    engine = make_engine(settings.effective_database_url)
    session_factory = make_session_factory(engine)
    identity = WorkerIdentity.of_this_process(host_gpu_model() if gpu else None)
    queues = worker_queues(gpu)
    app = make_celery_app(settings, session_factory, identity)
    heartbeat = Heartbeat(settings, session_factory, identity, queues, slots,
                          resend=lambda job_id: send_job(app, settings, session_factory, job_id))
    heartbeat.start()
    # Detector runs asked for on the dashboard: with Celery there is no grading process, so every worker serves them.
    stop_runs = threading.Event()
    threading.Thread(target=serve_runs, args=(settings, session_factory, stop_runs), name="grader-plagiarism", daemon=True).start()
    try:
        # threads: every sandbox is its own process already, and one process means one heartbeat covers all the
        # worker's jobs; a SIGKILL takes the whole worker down, and the live workers' heartbeat threads requeue its jobs
        app.worker_main(["worker", "--pool=threads", f"--concurrency={slots}", f"--queues={','.join(queues)}",
                         f"--hostname=grader.{os.getpid()}@%h", "--loglevel=INFO", "--without-gossip", "--without-mingle"])
    finally:
        stop_runs.set()
        heartbeat.stop()
        engine.dispose()
