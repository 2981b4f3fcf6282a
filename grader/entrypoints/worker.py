"""`grader worker`: a Celery worker that grades jobs from the Redis broker on this host's sandbox (Docker engine)."""

from __future__ import annotations

import os
from typing import Optional

import typer

from grader.settings import Settings


def worker(
    gpu: bool = typer.Option(False, "--gpu", help="this host passes a GPU to the sandbox: take GPU assignments too"),
    concurrency: Optional[int] = typer.Option(None, "--concurrency", "-c", min=1,
                                              help="sandboxes at once (default: GRADER_WORKERS, else the cores)"),
) -> None:
    """Grade jobs from the broker (GRADER_BROKER_URL) into the gradebook (GRADER_DATABASE_URL) until stopped."""
    # Imported here: every `grader` call loads this module (grader/entrypoints/cli.py)
    from grader.db.base import make_engine, make_session_factory
    from grader.db.migrations import upgrade_to_head
    from grader.queue.celery_queue import Heartbeat, make_celery_app, worker_queues

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    settings = Settings()
    if not gpu:  # it takes no GPU queue, so its gradings must not hold the host's GPU slots either
        settings = settings.model_copy(update={"sandbox_device": "cpu"})
    slots = concurrency or settings.workers or os.cpu_count() or 1
    upgrade_to_head(settings.effective_database_url)
    engine = make_engine(settings.effective_database_url)
    session_factory = make_session_factory(engine)
    queues = worker_queues(gpu)
    heartbeat = Heartbeat(settings, session_factory, queues, gpu, slots)
    heartbeat.start()
    app = make_celery_app(settings, session_factory)
    try:
        # threads: every sandbox is its own process already, and one process means one heartbeat covers the
        # worker's jobs; a SIGKILL takes the whole worker down and its messages come back after the visibility timeout
        app.worker_main(["worker", "--pool=threads", f"--concurrency={slots}", f"--queues={','.join(queues)}",
                         f"--hostname=grader.{os.getpid()}@%h", "--loglevel=INFO", "--without-gossip", "--without-mingle"])
    finally:
        heartbeat.stop()
        engine.dispose()
