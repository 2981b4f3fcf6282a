"""The embedded queue: worker threads pull job ids and grade them.

Inside one process (tests, `grader batch`) job ids are handed over directly. Under `grader serve` the web processes
share no memory with the grading process, so it also polls the database for queued rows (`poll_s`); a job handed over
twice is harmless, because a worker claims a job atomically before grading it.

Student code never runs in these threads: grading starts a sandboxed process and judges its data."""

from __future__ import annotations

import os
import queue
import threading

from sqlalchemy.orm import sessionmaker

from grader.db.base import make_engine, make_session_factory
from grader.pipeline import grade_by_sha256
from grader.plagiarism.runs import requeue_interrupted_runs, serve_runs
from grader.queue.claims import JobClaims
from grader.queue.identity import WorkerIdentity
from grader.queue.jobs import GradeFunction, execute_job, recover_interrupted_jobs
from grader.settings import Settings
from grader.stopping import StopSignal

_STOP = -1
GRADING_NICENESS = 10
PLAGIARISM_POLL_S = 1.0


class InProcessQueue:
    def __init__(
        self,
        settings: Settings,
        session_factory: sessionmaker,
        grade: GradeFunction = grade_by_sha256,
        poll_s: float | None = None,
    ) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.grade = grade
        self.poll_s = poll_s
        self.worker_count = settings.workers or os.cpu_count() or 1
        self.identity = WorkerIdentity.of_this_process()
        self._job_ids: queue.Queue[int] = queue.Queue()
        self._handed: set[int] = set()  # queued here and not yet finished: the poller must not hand them out again
        self._handed_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    def start(self) -> None:
        self._stopping.clear()
        for job_id in recover_interrupted_jobs(self.session_factory):
            self.enqueue(job_id)
        self._threads = [
            threading.Thread(target=self._work, name=f"grader-worker-{n}", daemon=True)
            for n in range(self.worker_count)
        ]
        if self.poll_s is not None:
            self._threads.append(threading.Thread(target=self._poll, name="grader-queue-poller", daemon=True))
        self._threads.append(threading.Thread(target=self._plagiarism_runs, name="grader-plagiarism", daemon=True))
        for thread in self._threads:
            thread.start()

    def enqueue(self, job_id: int) -> None:
        with self._handed_lock:
            if job_id in self._handed:
                return
            self._handed.add(job_id)
        self._job_ids.put(job_id)

    def stop(self) -> None:
        self._stopping.set()
        for _ in range(self.worker_count):
            self._job_ids.put(_STOP)
        for thread in self._threads:
            thread.join()
        self._threads = []

    def _poll(self) -> None:
        while not self._stopping.wait(self.poll_s):
            with self.session_factory() as session:
                job_ids = JobClaims(session).queued_ids()
            for job_id in job_ids:
                self.enqueue(job_id)

    def _plagiarism_runs(self) -> None:
        """Detector runs asked for on the dashboard, one at a time, beside the grading threads."""
        with self.session_factory.begin() as session:
            requeue_interrupted_runs(session)
        serve_runs(self.settings, self.session_factory, self._stopping, PLAGIARISM_POLL_S)

    def _work(self) -> None:
        while True:
            job_id = self._job_ids.get()
            try:
                if job_id == _STOP or self._stopping.is_set():  # an unstarted job stays queued in the database
                    return
                execute_job(job_id, self.settings, self.session_factory, self.grade, self.identity)
            finally:
                with self._handed_lock:
                    self._handed.discard(job_id)
                self._job_ids.task_done()


def grade_until_stopped(settings: Settings, poll_s: float = 0.25) -> None:
    """The grading process of `grader serve`: grade every queued job of the database until SIGTERM or SIGINT, then
    finish the jobs in hand. Only one such process may serve a database: it requeues jobs left running at its start."""
    # Grading is batch work and acknowledging an upload is interactive: under load the web processes go first.
    # The local sandbox's runs inherit this priority.
    os.nice(GRADING_NICENESS)
    stopped = StopSignal()
    engine = make_engine(settings.effective_database_url)
    grading = InProcessQueue(settings, make_session_factory(engine), poll_s=poll_s)
    grading.start()
    try:
        stopped.wait()
    finally:
        grading.stop()
        engine.dispose()
