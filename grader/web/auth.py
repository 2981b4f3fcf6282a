"""Who is asking: a browser session (pages) or a bearer token (JSON API). FastAPI dependencies."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from grader.gradebook.repository import Gradebook
from grader.web.security import SESSION_COOKIE, Viewer, tokens_equal
from grader.web.services import AppContext, Forbidden, check_upload_rate


class NotSignedIn(Exception):
    pass


def app_context(request: Request) -> AppContext:
    return request.app.state.context


def _session_viewer(request: Request, gradebook: Gradebook) -> Viewer:
    token = request.cookies.get(SESSION_COOKIE)
    web_session = gradebook.live_session(token) if token else None
    if web_session is None:
        raise NotSignedIn()
    user = web_session.user
    viewer = Viewer(user.id, user.email, user.name, user.role, web_session.csrf_token)
    request.state.viewer = viewer
    return viewer


def _bearer_viewer(request: Request, gradebook: Gradebook) -> Viewer:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    user = gradebook.user_by_api_token(token.strip()) if scheme.lower() == "bearer" and token else None
    if user is None:
        raise NotSignedIn()
    return Viewer(user.id, user.email, user.name, user.role, csrf_token="")


def page_viewer(request: Request) -> Viewer:
    with app_context(request).reading() as gradebook:
        return _session_viewer(request, gradebook)


def instructor_page_viewer(request: Request) -> Viewer:
    viewer = page_viewer(request)
    if not viewer.is_instructor:
        raise Forbidden("this page is for instructors")
    return viewer


def api_viewer(request: Request) -> Viewer:
    with app_context(request).reading() as gradebook:
        return _bearer_viewer(request, gradebook)


def _uploader(request: Request, identify: Callable[[Request, Gradebook], Viewer]) -> Viewer:
    """Who uploads, already held to the upload rate: one read for both on the upload path, before the body is read."""
    ctx = app_context(request)
    with ctx.reading() as gradebook:
        viewer = identify(request, gradebook)
        check_upload_rate(ctx, gradebook, viewer)
    return viewer


def page_uploader(request: Request) -> Viewer:
    return _uploader(request, _session_viewer)


def api_uploader(request: Request) -> Viewer:
    return _uploader(request, _bearer_viewer)


def check_csrf(viewer: Viewer, submitted: str | None) -> None:
    if not tokens_equal(viewer.csrf_token, submitted):
        raise Forbidden("the form was stale or did not come from this site; reload the page and try again")
