"""Web-only knobs, with production defaults. Passed to `create_app` beside Settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class WebOptions:
    session_lifetime: timedelta = timedelta(hours=12)
    uploads_per_window: int = 10  # per student
    upload_window: timedelta = timedelta(minutes=10)
    status_poll_ms: int = 2000
    multipart_overhead_bytes: int = 64 * 1024  # headers and boundaries around the file, beyond max_upload_bytes
    # Uploads up to this size are stored on the event loop: their few file calls cost less than a hop to a worker
    # thread, where every file call gives up the GIL and waits for it again behind the loop. Bigger ones (a zip to
    # unpack) go to a worker thread, so the requests around them are not held up.
    inline_store_bytes: int = 256 * 1024
