"""Who is asking: a browser session (pages) or a bearer token (JSON API). FastAPI dependencies."""

from __future__ import annotations

from fastapi import Request

from grader.db.base import utcnow
from grader.gradebook.signed_in import Credential, SignedIn, signed_in
from grader.services.access import Forbidden
from grader.web.context import AppContext
from grader.web.security import SESSION_COOKIE, Viewer, tokens_equal


class NotSignedIn(Exception):
    pass


def context_of(request: Request) -> AppContext:
    return request.app.state.context


async def app_context(request: Request) -> AppContext:
    """A coroutine: FastAPI would run a plain function dependency on its thread pool, a hop that costs more than this."""
    return context_of(request)


def _credential(request: Request, kind: Credential) -> str | None:
    if kind == "session":
        return request.cookies.get(SESSION_COOKIE) or None
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def _signed_in(request: Request, kind: Credential, uploading: bool) -> SignedIn:
    ctx = context_of(request)
    token = _credential(request, kind)
    if token is None:
        raise NotSignedIn()
    with ctx.connect() as connection:
        since = ctx.options.upload_rate.counted_since(utcnow()) if uploading else None
        account = signed_in(connection, kind, token, since)
    if account is None:
        raise NotSignedIn()
    request.state.viewer = viewer = Viewer(
        account.user_id, account.email, account.name, account.role, account.csrf_token
    )
    if uploading:  # after the viewer is known, so that the refusal's page shows who is signed in
        ctx.options.upload_rate.refuse_if_over(account.uploads_in_window)
    return viewer


def page_viewer(request: Request) -> Viewer:
    return _signed_in(request, "session", uploading=False)


def instructor_page_viewer(request: Request) -> Viewer:
    viewer = page_viewer(request)
    if not viewer.is_instructor:
        raise Forbidden("this page is for instructors")
    return viewer


def api_viewer(request: Request) -> Viewer:
    return _signed_in(request, "api_token", uploading=False)


def page_uploader(request: Request) -> Viewer:
    """Who uploads, already held to the upload rate: one read for both, before the body is read."""
    return _signed_in(request, "session", uploading=True)


def api_uploader(request: Request) -> Viewer:
    return _signed_in(request, "api_token", uploading=True)


def check_csrf(viewer: Viewer, submitted: str | None) -> None:
    if not tokens_equal(viewer.csrf_token, submitted):
        raise Forbidden("the form was stale or did not come from this site; reload the page and try again")
