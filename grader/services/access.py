"""Who is asking, and the refusals every service may answer with (the web app turns them into error pages)."""

from __future__ import annotations

from typing import Protocol


class Caller(Protocol):
    """The account a service acts for: the web's signed-in viewer, or any caller with an id and a role."""

    @property
    def id(self) -> int: ...

    @property
    def is_instructor(self) -> bool: ...


class NotFound(Exception):
    """Also what a student gets for someone else's submission: its existence is not confirmed."""


class Forbidden(Exception):
    pass


class RateLimited(Exception):
    pass


class InvalidInput(Exception):
    pass


def require_instructor(caller: Caller) -> None:
    if not caller.is_instructor:
        raise Forbidden("this page is for instructors")
