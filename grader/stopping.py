"""Stopping a long-running process (`grader serve` and its grading process) on SIGTERM or SIGINT."""

from __future__ import annotations

import signal
import time


class StopSignal:
    """Becomes set on SIGTERM or SIGINT; the main thread waits on it.

    The handler only sets a flag. A handler that takes a lock deadlocks when a second signal lands while the first
    handler holds it. `threading.Event.set` takes one. `grader serve`'s grading process hung that way: stopping
    `grader serve` sends SIGTERM from its process group and again from the parent."""

    def __init__(self, signals: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGINT)) -> None:
        self.received = False
        for number in signals:
            signal.signal(number, self._handle)

    def _handle(self, _signum: int, _frame: object) -> None:
        self.received = True

    def wait(self, timeout: float | None = None, step: float = 0.1) -> bool:
        """True once a signal came; False when timeout seconds passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.received:
            remaining = step if deadline is None else min(step, deadline - time.monotonic())
            if remaining <= 0:
                return False
            time.sleep(remaining)
        return True
