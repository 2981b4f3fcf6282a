"""The embedded queue: worker threads inside the web process pull job ids and grade them.

Student code never runs in these threads: grading starts a sandboxed process and judges its data."""

from __future__ import annotations

import os
import queue
import threading

from sqlalchemy.orm import sessionmaker

from grader.pipeline import grade_stored
from grader.queue.jobs import GradeFunction, execute_job, recover_interrupted_jobs
from grader.settings import Settings

_STOP = -1


class InProcessQueue:
    def __init__(self, settings: Settings, session_factory: sessionmaker, grade: GradeFunction = grade_stored) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.grade = grade
        self.worker_count = settings.workers or os.cpu_count() or 1
        self._job_ids: queue.Queue[int] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    def start(self) -> None:
        self._stopping.clear()
        for job_id in recover_interrupted_jobs(self.session_factory):
            self._job_ids.put(job_id)
        self._threads = [
            threading.Thread(target=self._work, name=f"grader-worker-{n}", daemon=True) for n in range(self.worker_count)
        ]
        for thread in self._threads:
            thread.start()

    def enqueue(self, job_id: int) -> None:
        self._job_ids.put(job_id)

    def stop(self) -> None:
        self._stopping.set()
        for _ in self._threads:
            self._job_ids.put(_STOP)
        for thread in self._threads:
            thread.join()
        self._threads = []

    def _work(self) -> None:
        while True:
            job_id = self._job_ids.get()
            try:
                if job_id == _STOP or self._stopping.is_set():  # an unstarted job stays queued in the database
                    return
                execute_job(job_id, self.settings, self.session_factory, self.grade)
            finally:
                self._job_ids.task_done()
