"""Plagiarism review in the browser: detector runs started from the dashboard (carried out by the grading process),
the list of cases, and one case side by side with Confirm / Dismiss (grader/services/plagiarism.py decides)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from grader.services import plagiarism
from grader.web.auth import app_context, check_csrf, instructor_page_viewer
from grader.web.context import AppContext
from grader.web.rendering import render
from grader.web.security import Viewer

router = APIRouter(include_in_schema=False)


@router.get("/instructor/plagiarism", response_class=HTMLResponse)
def plagiarism_list(
    request: Request, viewer: Viewer = Depends(instructor_page_viewer), ctx: AppContext = Depends(app_context)
) -> Response:
    named, runs = plagiarism.review_list(ctx, viewer)
    listed = [(item.case, item.left, item.right) for item in named]
    return render(request, "plagiarism.html", {"cases": listed, "runs": runs, "assignments": ctx.assignments()})


@router.post("/instructor/plagiarism/runs")
def start_run(
    assignment_id: str = Form(...),
    csrf_token: str = Form(""),
    viewer: Viewer = Depends(instructor_page_viewer),
    ctx: AppContext = Depends(app_context),
) -> Response:
    check_csrf(viewer, csrf_token)
    plagiarism.start_run(ctx, viewer, assignment_id)
    return RedirectResponse("/instructor/plagiarism", status_code=303)


@router.get("/instructor/plagiarism/cases/{case_id}", response_class=HTMLResponse)
def case_page(
    request: Request,
    case_id: int,
    viewer: Viewer = Depends(instructor_page_viewer),
    ctx: AppContext = Depends(app_context),
) -> Response:
    review = plagiarism.case_review(ctx, viewer, case_id)
    return render(
        request,
        "plagiarism_case.html",
        {
            "case": review.named.case,
            "left": review.named.left,
            "right": review.named.right,
            "penalty_points": review.penalty_points,
            "max_points": review.max_points,
        },
    )


@router.post("/instructor/plagiarism/cases/{case_id}/decision")
def decide_case(
    case_id: int,
    decision: str = Form(...),
    comment: str = Form(""),
    csrf_token: str = Form(""),
    viewer: Viewer = Depends(instructor_page_viewer),
    ctx: AppContext = Depends(app_context),
) -> Response:
    check_csrf(viewer, csrf_token)
    plagiarism.decide_case(ctx, viewer, case_id, decision, comment)
    return RedirectResponse(f"/instructor/plagiarism/cases/{case_id}", status_code=303)
