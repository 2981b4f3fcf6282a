"""The errors the app turns into pages (or JSON under /api): their status and title, one table for both."""

from __future__ import annotations

from grader.services.access import Forbidden, InvalidInput, NotFound, RateLimited
from grader.settings import Settings
from grader.web.uploads import BadUpload, UploadTooLarge

ERRORS: dict[type[Exception], tuple[int, str]] = {
    NotFound: (404, "Not found"),
    Forbidden: (403, "Not allowed"),
    RateLimited: (429, "Too many uploads"),
    InvalidInput: (400, "That did not work"),
    BadUpload: (400, "Upload not understood"),
    UploadTooLarge: (413, "File too large"),
}


def upload_error_detail(error: Exception, settings: Settings) -> str:
    if isinstance(error, UploadTooLarge):
        return f"uploads are limited to {settings.max_upload_bytes // (1024 * 1024)} MiB"
    return str(error)
