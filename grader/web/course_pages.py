"""Pages about the course's dates and materials: the handout zip, extensions, and the list of regrade batches.
Every POST checks the CSRF token; every instructor route checks the role."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from grader.services import deadlines, handouts, regrades
from grader.web.auth import app_context, check_csrf, instructor_page_viewer, page_viewer
from grader.web.context import AppContext
from grader.web.rendering import render
from grader.web.security import Viewer

router = APIRouter(include_in_schema=False)


@router.get("/assignments/{assignment_id}/handout.zip")
def handout(
    assignment_id: str, viewer: Viewer = Depends(page_viewer), ctx: AppContext = Depends(app_context)
) -> Response:
    """The same zip as `grader handout <id>`: README, starter code, public tests, public data and the rubric."""
    return FileResponse(
        handouts.handout_zip(ctx, assignment_id), media_type="application/zip", filename=f"{assignment_id}-handout.zip"
    )


@router.post("/instructor/extensions")
def extension(
    student_id: int = Form(...),
    assignment_id: str = Form(...),
    days: int = Form(...),
    note: str = Form(""),
    csrf_token: str = Form(""),
    viewer: Viewer = Depends(instructor_page_viewer),
    ctx: AppContext = Depends(app_context),
) -> Response:
    check_csrf(viewer, csrf_token)
    deadlines.grant(ctx, viewer, student_id, assignment_id, days, note)
    return RedirectResponse(f"/instructor/students/{student_id}#extensions", status_code=303)


@router.get("/instructor/regrades", response_class=HTMLResponse)
def regrade_list(
    request: Request, viewer: Viewer = Depends(instructor_page_viewer), ctx: AppContext = Depends(app_context)
) -> Response:
    return render(request, "regrades.html", {"batches": regrades.batches(ctx, viewer)})
