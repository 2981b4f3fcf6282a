"""Who is asking: a browser session (pages) or a bearer token (JSON API). FastAPI dependencies."""

from __future__ import annotations

from fastapi import Request

from grader.web.security import SESSION_COOKIE, Viewer, tokens_equal
from grader.web.services import AppContext, Forbidden


class NotSignedIn(Exception):
    pass


def app_context(request: Request) -> AppContext:
    return request.app.state.context


def page_viewer(request: Request) -> Viewer:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise NotSignedIn()
    with app_context(request).reading() as gradebook:
        web_session = gradebook.live_session(token)
        if web_session is None:
            raise NotSignedIn()
        user = web_session.user
        viewer = Viewer(user.id, user.email, user.name, user.role, web_session.csrf_token)
    request.state.viewer = viewer
    return viewer


def instructor_page_viewer(request: Request) -> Viewer:
    viewer = page_viewer(request)
    if not viewer.is_instructor:
        raise Forbidden("this page is for instructors")
    return viewer


def api_viewer(request: Request) -> Viewer:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise NotSignedIn()
    with app_context(request).reading() as gradebook:
        user = gradebook.user_by_api_token(token.strip())
        if user is None:
            raise NotSignedIn()
        return Viewer(user.id, user.email, user.name, user.role, csrf_token="")


def check_csrf(viewer: Viewer, submitted: str | None) -> None:
    if not tokens_equal(viewer.csrf_token, submitted):
        raise Forbidden("the form was stale or did not come from this site; reload the page and try again")
