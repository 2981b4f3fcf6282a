"""The queue the settings choose, and what a web process loads for it: Celery only when `GRADER_QUEUE=celery`.

Each check runs in a fresh interpreter, so modules other tests imported cannot hide or fake an import."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from grader.settings import Settings

# Builds the app of a `grader serve` web process and the app with the default (grading) queue, then reports which
# queues they got and whether Celery was loaded.
PROBE = """
import sys
from grader.settings import Settings
from grader.web.app import create_app, create_served_app

served, embedded = create_served_app(), create_app(Settings())
print(type(served.state.context.queue).__name__, type(embedded.state.context.queue).__name__, "celery" in sys.modules)
"""


def _web_process_report(settings: Settings, queue: str) -> list[str]:
    env = {
        **os.environ,
        "GRADER_COURSE_DIR": str(settings.course_dir),
        "GRADER_DATA_DIR": str(settings.data_dir),
        "GRADER_DATABASE_URL": settings.effective_database_url,
        "GRADER_SANDBOX": "local",
        "GRADER_QUEUE": queue,
    }
    finished = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    return finished.stdout.split()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_web_process_on_the_embedded_queue_never_imports_celery(settings: Settings):
    assert _web_process_report(settings, "inprocess") == ["DatabaseQueue", "InProcessQueue", "False"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_web_process_on_celery_sends_jobs_through_celery(settings: Settings):
    assert _web_process_report(settings, "celery") == ["CeleryQueue", "CeleryQueue", "True"]
