"""How often a student may upload: at most `uploads` submissions in any `window`, for pages and API alike.

The web reads the uploads inside the window in the same statement that finds who is asking
(grader/gradebook/signed_in.py), so holding an upload to the rate costs no round trip of its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from grader.services.access import RateLimited


@dataclass(frozen=True)
class UploadRate:
    uploads: int = 10  # per student
    window: timedelta = timedelta(minutes=10)

    def counted_since(self, now: datetime) -> datetime:
        """The start of the window that ends `now`: the uploads after it count."""
        return now - self.window

    def refuse_if_over(self, uploads_in_window: int) -> None:
        """`RateLimited`, saying the rule, when another upload would go over it."""
        if uploads_in_window >= self.uploads:
            minutes = int(self.window.total_seconds() // 60)
            raise RateLimited(f"at most {self.uploads} uploads per {minutes} minutes; try again later")
