"""Regrade requests in the browser: a student asks about one criterion from the result page, the thread is shared
with the instructors, and an instructor's answer may override the criterion's points."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from grader.db.request_models import RegradeRequest
from grader.gradebook.regrade_requests import (
    RequestRefused,
    all_requests,
    open_request,
    reply,
    requests_of_submission,
    thread,
)
from grader.gradebook.repository import Gradebook
from grader.services import submissions
from grader.services.access import InvalidInput, NotFound
from grader.web.auth import app_context, check_csrf, instructor_page_viewer, page_viewer
from grader.web.context import AppContext
from grader.web.rendering import render
from grader.web.security import Viewer

router = APIRouter(include_in_schema=False)


def _askable_criteria(page: submissions.SubmissionPage) -> dict[str, float]:
    """What a student may ask about: the criteria of the result they can see (id -> max points)."""
    if page.result is None:
        return {}
    return {c.id: c.max_points for c in page.result.criteria if not c.hidden}


def _automatic_points(gradebook: Gradebook, submission_id: int, criterion_id: str) -> float | None:
    """The grader's points for the criterion, before any override."""
    record = gradebook.submissions.current_record(submission_id)
    criteria = record.result.get("criteria", []) if record else []
    return next((c["points"] for c in criteria if c["id"] == criterion_id), None)


def _request_of(ctx: AppContext, viewer: Viewer, request_id: int) -> tuple[int, submissions.SubmissionPage]:
    """The request's submission as the viewer may see it; someone else's request is not found."""
    with ctx.unit_of_work() as gradebook:
        request = gradebook.session.get(RegradeRequest, request_id)
        if request is None:
            raise NotFound("no such regrade request")
        submission_id = request.submission_id
    return submission_id, submissions.submission_page(ctx, viewer, submission_id)


def submission_requests(ctx: AppContext, submission_id: int) -> list[RegradeRequest]:
    """For the submission pages, which check who may see the submission."""
    with ctx.unit_of_work() as gradebook:
        requests = requests_of_submission(gradebook.session, submission_id)
        gradebook.session.expunge_all()
        return requests


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
    page = submissions.submission_page(ctx, viewer, submission_id)
    if page.submission.user_id != viewer.id:
        raise InvalidInput("only the student who submitted asks for a review; answer in an existing thread instead")
    with ctx.unit_of_work() as gradebook:
        try:
            request = open_request(
                gradebook.session,
                gradebook.submissions.submission(submission_id),
                criterion_id,
                _askable_criteria(page),
                gradebook.accounts.user(viewer.id),
                message,
            )
        except RequestRefused as error:
            raise InvalidInput(str(error)) from error
        request_id = request.id
    return RedirectResponse(f"/regrade-requests/{request_id}", status_code=303)


@router.get("/regrade-requests/{request_id}", response_class=HTMLResponse)
def request_thread(
    request: Request, request_id: int, viewer: Viewer = Depends(page_viewer), ctx: AppContext = Depends(app_context)
) -> Response:
    _, page = _request_of(ctx, viewer, request_id)
    with ctx.unit_of_work() as gradebook:
        regrade_request = gradebook.session.get(RegradeRequest, request_id)
        messages = [
            (m.author.name, m.author.role, m.at, m.body, m.override_points)
            for m in thread(gradebook.session, request_id)
        ]
        return render(
            request,
            "regrade_request.html",
            {
                "regrade_request": regrade_request,
                "messages": messages,
                "page": page,
                "max_points": _askable_criteria(page).get(regrade_request.criterion_id),
                "automatic_points": _automatic_points(gradebook, page.submission.id, regrade_request.criterion_id),
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
    _, page = _request_of(ctx, viewer, request_id)
    try:
        override = float(override_points) if override_points.strip() else None
    except ValueError as error:
        raise InvalidInput(
            f"override points must be a number, not {override_points!r}; leave it empty to keep the automatic points"
        ) from error
    with ctx.unit_of_work() as gradebook:
        regrade_request = gradebook.session.get(RegradeRequest, request_id)
        criterion = regrade_request.criterion_id
        try:
            reply(
                gradebook.session,
                regrade_request,
                gradebook.accounts.user(viewer.id),
                message,
                override,
                _automatic_points(gradebook, page.submission.id, criterion),
                _askable_criteria(page).get(criterion),
            )
        except RequestRefused as error:
            raise InvalidInput(str(error)) from error
    return RedirectResponse(f"/regrade-requests/{request_id}", status_code=303)


@router.get("/instructor/regrade-requests", response_class=HTMLResponse)
def request_list(
    request: Request, viewer: Viewer = Depends(instructor_page_viewer), ctx: AppContext = Depends(app_context)
) -> Response:
    with ctx.unit_of_work() as gradebook:
        listed = [(r, r.submission.user.name, r.submission.assignment_id) for r in all_requests(gradebook.session)]
        return render(request, "regrade_requests.html", {"requests": listed})
