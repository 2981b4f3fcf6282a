"""The upload rate as a service rule: the window that counts, the last upload allowed, the refusal that says the rule.
The web's 429 over real uploads is tests/web/test_security.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from grader.services.access import RateLimited
from grader.services.upload_rate import UploadRate

RATE = UploadRate(uploads=3, window=timedelta(minutes=15))


def test_the_uploads_after_the_window_start_count() -> None:
    now = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)
    assert RATE.counted_since(now) == datetime(2026, 12, 7, 12, 45, tzinfo=UTC)


def test_uploads_below_the_limit_are_allowed() -> None:
    RATE.refuse_if_over(2)  # the third upload of the window


@pytest.mark.parametrize("uploads_in_window", [3, 4])
def test_an_upload_beyond_the_limit_is_refused_naming_the_rule(uploads_in_window: int) -> None:
    with pytest.raises(RateLimited, match=r"^at most 3 uploads per 15 minutes; try again later$"):
        RATE.refuse_if_over(uploads_in_window)
