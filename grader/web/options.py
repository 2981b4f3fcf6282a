"""Web-only knobs, with production defaults. Passed to `create_app` beside Settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from grader.gradebook.sign_in_throttle import ThrottlePolicy
from grader.services.upload_rate import UploadRate


@dataclass(frozen=True)
class WebOptions:
    session_lifetime: timedelta = timedelta(hours=12)
    upload_rate: UploadRate = UploadRate()
    status_poll_ms: int = 2000
    multipart_overhead_bytes: int = 64 * 1024  # headers and boundaries around the file, beyond max_upload_bytes
    # A .py or notebook up to this size is validated in memory and committed to the gradebook with its row (one flush
    # of the database for a whole burst, no file written before it); the grading process writes it to the store.
    # Bigger files and zips are written to the store by a worker thread, and the store is flushed before their rows.
    in_memory_upload_bytes: int = 256 * 1024
    sign_in: ThrottlePolicy = ThrottlePolicy()
