"""Chooses the grading queue from the settings: the embedded one (default), or Celery workers on other hosts.

Celery is imported only when `GRADER_QUEUE=celery` asks for it: a web process on the embedded queue never loads it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import sessionmaker

from grader.queue.base import GradingQueue
from grader.queue.database import DatabaseQueue
from grader.queue.inprocess import InProcessQueue
from grader.settings import Settings

QueueFactory = Callable[[Settings, sessionmaker], GradingQueue]


def _celery_queue(settings: Settings, session_factory: sessionmaker) -> GradingQueue:
    from grader.queue.celery_queue import CeleryQueue

    return CeleryQueue(settings, session_factory)


def select_queue(settings: Settings, session_factory: sessionmaker) -> GradingQueue:
    """The queue of a process that grades itself (tests, `grader batch`): worker threads here, or Celery workers."""
    if settings.queue == "celery":
        return _celery_queue(settings, session_factory)
    return InProcessQueue(settings, session_factory)


def web_process_queue(settings: Settings, session_factory: sessionmaker) -> GradingQueue:
    """The queue of a `grader serve` web process, which never grades: Celery workers on other hosts, or (embedded)
    the grading process that `grader serve` starts beside the web processes."""
    if settings.queue == "celery":
        return _celery_queue(settings, session_factory)
    return DatabaseQueue(settings, session_factory)
