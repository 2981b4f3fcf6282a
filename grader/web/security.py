"""Session cookies and CSRF. The session cookie carries only a random token (HttpOnly, SameSite=Lax, Secure whenever
the request came over HTTPS); each session has its own CSRF token that every form must echo. Passwords:
grader/gradebook/passwords.py."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request, Response

SESSION_COOKIE = "grader_session"
LOGIN_CSRF_COOKIE = "grader_login_csrf"  # double-submit token for the forms used before signing in


@dataclass(frozen=True)
class Viewer:
    """The signed-in user of one request, detached from the database session."""

    id: int
    email: str
    name: str
    role: str
    csrf_token: str

    @property
    def is_instructor(self) -> bool:
        return self.role == "instructor"


def tokens_equal(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(a.encode(), b.encode())


def served_over_https(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name, value, max_age=max_age, httponly=True, samesite="lax", secure=served_over_https(request), path="/"
    )


def login_csrf_token(request: Request) -> str:
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
