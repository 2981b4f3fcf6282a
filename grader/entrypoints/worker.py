"""`grader worker`: a Celery worker that grades jobs from the Redis broker on this host's sandbox (Docker engine)."""

from __future__ import annotations

import logging
import os
from typing import Optional

import typer

from grader.settings import Settings


def worker(
    gpu: bool = typer.Option(False, "--gpu", help="this host passes a GPU to the sandbox: take GPU assignments too"),
    concurrency: Optional[int] = typer.Option(
        None,
        "--concurrency",
        "-c",
        min=1,
        help="sandboxes at once (default: GRADER_WORKERS, else the cores "
        "divided by the assignments' largest limits.cpus)",
    ),
) -> None:
    """Grade jobs from the broker (GRADER_BROKER_URL) into the gradebook (GRADER_DATABASE_URL) until stopped."""
    # Imported here: every `grader` call loads this module (grader/entrypoints/cli.py)
    from grader.queue.celery_worker import default_slots, run_celery_worker, worker_settings
    from grader.sandbox.base import SandboxError

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # the grader's own lines (which job, which worker, takeovers) beside Celery's, which name task ids only
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s: %(levelname)s/%(name)s] %(message)s")
    try:
        settings = worker_settings(Settings(), gpu)
    except SandboxError as error:
        typer.echo(f"grader worker --gpu: {error}", err=True)
        raise typer.Exit(2) from error
    run_celery_worker(settings, gpu, concurrency or settings.workers or default_slots(settings, os.cpu_count() or 1))
