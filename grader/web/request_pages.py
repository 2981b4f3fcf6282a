"""Regrade requests in the browser: a student asks about one criterion from the result page, the thread is shared
with the instructors, and an instructor's answer may override the criterion's points (grader/services/
regrade_requests.py decides who may)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from grader.services import regrade_requests
from grader.services.access import InvalidInput
from grader.web.auth import app_context, check_csrf, instructor_page_viewer, page_viewer
from grader.web.context import AppContext
from grader.web.rendering import render
from grader.web.security import Viewer

router = APIRouter(include_in_schema=False)


def _override(text: str) -> float | None:
    try:
        return float(text) if text.strip() else None
    except ValueError as error:
        raise InvalidInput(
            f"override points must be a number, not {text!r}; leave it empty to keep the automatic points"
        ) from error


@router.post("/submissions/{submission_id}/regrade-requests")
def ask(
    submission_id: int,
    criterion_id: str = Form(...),
    message: str = Form(""),
    csrf_token: str = Form(""),
    viewer: Viewer = Depends(page_viewer),
    ctx: AppContext = Depends(app_context),
) -> Response:
    check_csrf(viewer, csrf_token)
    request_id = regrade_requests.ask(ctx, viewer, submission_id, criterion_id, message)
    return RedirectResponse(f"/regrade-requests/{request_id}", status_code=303)


@router.get("/regrade-requests/{request_id}", response_class=HTMLResponse)
def request_thread(
    request: Request, request_id: int, viewer: Viewer = Depends(page_viewer), ctx: AppContext = Depends(app_context)
) -> Response:
    thread = regrade_requests.request_thread(ctx, viewer, request_id)
    return render(
        request,
        "regrade_request.html",
        {
            "regrade_request": thread.request,
            "messages": thread.messages,
            "page": thread.page,
            "max_points": thread.max_points,
            "automatic_points": thread.automatic_points,
        },
    )


@router.post("/regrade-requests/{request_id}/messages")
def answer(
    request_id: int,
    message: str = Form(""),
    override_points: str = Form(""),
    csrf_token: str = Form(""),
    viewer: Viewer = Depends(page_viewer),
    ctx: AppContext = Depends(app_context),
) -> Response:
    check_csrf(viewer, csrf_token)
    regrade_requests.answer(ctx, viewer, request_id, message, _override(override_points))
    return RedirectResponse(f"/regrade-requests/{request_id}", status_code=303)


@router.get("/instructor/regrade-requests", response_class=HTMLResponse)
def request_list(
    request: Request, viewer: Viewer = Depends(instructor_page_viewer), ctx: AppContext = Depends(app_context)
) -> Response:
    return render(request, "regrade_requests.html", {"requests": regrade_requests.all_requests(ctx, viewer)})
