"""Group commit for new submissions: uploads that arrive together share one transaction, hence one flush of the
database to disk, instead of queueing one by one for its write lock.

SQLite admits one writer at a time and its busy handler sleeps in growing steps while it waits, so fifty uploads in
the same second each committing alone put seconds on the last acknowledgement. One writer thread takes every
submission waiting when it becomes free and commits them together: the rows are as durable as before (the commit
returns only once they are on disk), and a burst costs a few commits instead of one per upload."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future

from sqlalchemy.orm import sessionmaker

from grader.gradebook.repository import Gradebook
from grader.gradebook.submissions import NewSubmission, RecordedSubmission

_Pending = tuple[NewSubmission, "Future[RecordedSubmission]"]


class SubmissionRecorder:
    """`before_commit` runs before the rows of a batch commit when the batch holds an upload already written to the
    store (one without `content`): `grader serve` flushes the store there, so those files are on disk before any of
    them is acknowledged. An upload with `content` is made durable by the commit itself."""

    def __init__(
        self, session_factory: sessionmaker, before_commit: Callable[[], None] = lambda: None, max_batch: int = 256
    ) -> None:
        self._session_factory = session_factory
        self._before_commit = before_commit
        self._max_batch = max_batch
        self._pending: queue.Queue[_Pending | None] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(self, new: NewSubmission) -> Future[RecordedSubmission]:
        """Hand the submission and its queued job to the writer; the future is done once both rows are committed."""
        future: Future[RecordedSubmission] = Future()
        with self._lock:  # started on first use, so every way of building the app records the same way
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="grader-submission-writer", daemon=True)
                self._thread.start()
            self._pending.put((new, future))
        return future

    def stop(self) -> None:
        """Commit what is waiting, then end the writer thread."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is not None:
                self._pending.put(None)
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        while True:
            first = self._pending.get()
            if first is None:
                return
            batch, stopping = [first], False
            while len(batch) < self._max_batch and not stopping:
                try:
                    item = self._pending.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                else:
                    batch.append(item)
            self._commit(batch)
            if stopping:
                return

    def _commit(self, batch: list[_Pending]) -> None:
        try:
            if any(new.content is None for new, _ in batch):
                self._before_commit()
            with self._session_factory.begin() as session:
                rows = Gradebook(session).submissions.record_submissions([new for new, _ in batch])
        except Exception as error:  # noqa: BLE001 - handed to the waiting upload, which reports it
            if len(batch) == 1:
                batch[0][1].set_exception(error)
                return
            for item in batch:  # one bad row must not fail the uploads that happened to share its transaction
                self._commit([item])
            return
        for (_, future), recorded in zip(batch, rows):
            future.set_result(recorded)
