"""What `grader batch` says while it waits on Celery workers (the real workers are in test_worker_failover)."""

from __future__ import annotations

import pytest

from grader.batch.service import BatchProgress, NoLiveWorker, wait_for_jobs
from grader.entrypoints.batch import counts_text
from grader.queue.heartbeat import GradingCapacity


class IdleQueue:  # the producer side only: nothing here grades
    def start(self) -> None: ...
    def enqueue(self, job_id: int) -> None: ...
    def stop(self) -> None: ...


def test_the_progress_line_counts_live_workers_and_jobs_of_dead_ones():
    progress = BatchProgress(
        total=8, done=3, graded=2, errored=1, timed_out=0, live_workers=2, waiting_for_dead_holder=1
    )
    assert counts_text(progress) == "graded 2 · errored 1 · timed out 0 · workers alive 2 · 1 waiting for a dead worker"


def test_the_progress_line_of_a_batch_grading_itself_has_no_worker_count():
    assert "workers" not in counts_text(BatchProgress(total=8, done=3, graded=3, errored=0, timed_out=0))


def test_waiting_gives_up_once_no_worker_was_alive_for_the_set_time(fixture_settings, gradebook_factory):
    session_factory = gradebook_factory(fixture_settings)
    seen: list[BatchProgress] = []

    with pytest.raises(NoLiveWorker) as stalled:
        wait_for_jobs(IdleQueue(), session_factory, [1, 2], seen.append, lambda: GradingCapacity(0, 0), no_worker_s=1.0)

    assert stalled.value.waited_s >= 1.0
    assert "2 of 2 jobs are not graded yet and stay queued" in str(stalled.value)
    assert {p.live_workers for p in seen} == {0}
