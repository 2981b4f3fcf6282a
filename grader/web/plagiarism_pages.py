"""Plagiarism review in the browser: detector runs started from the dashboard (carried out by the grading process),
the list of cases, one case side by side with Confirm / Dismiss, and the penalty a student sees on a project page."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from grader.db.models import User
from grader.db.plagiarism_models import PlagiarismCase
from grader.gradebook.plagiarism_flags import student_keys
from grader.gradebook.repository import Gradebook
from grader.plagiarism.review import DECISIONS, CaseNotFound, cases, decide
from grader.plagiarism.runs import request_run, runs
from grader.services.access import InvalidInput, NotFound
from grader.web.auth import app_context, check_csrf, instructor_page_viewer
from grader.web.context import AppContext
from grader.web.rendering import render
from grader.web.security import Viewer

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Penalty:
    """A confirmed case as a student of it sees it on the project page."""

    assignment_id: str
    points: float
    max_points: float
    comment: str


def people_by_key(gradebook: Gradebook) -> dict[str, User]:
    """How cases name students (e-mail or student number) -> the account."""
    return {key: user for user in gradebook.accounts.students() for key in student_keys(user)}


def penalties_of(ctx: AppContext, gradebook: Gradebook, user: User, assignment_id: str) -> list[Penalty]:
    keys = student_keys(user)
    max_points = ctx.rules.points_for(assignment_id)
    return [
        Penalty(case.assignment_id, round(ctx.rules.plagiarism_penalty * max_points, 2), max_points, case.comment or "")
        for case in cases(gradebook.session, assignment_id, "confirmed")
        if case.student_a in keys or case.student_b in keys
    ]


@router.get("/instructor/plagiarism", response_class=HTMLResponse)
def plagiarism(
    request: Request, viewer: Viewer = Depends(instructor_page_viewer), ctx: AppContext = Depends(app_context)
) -> Response:
    with ctx.unit_of_work() as gradebook:
        people = people_by_key(gradebook)
        listed = [(case, people.get(case.student_a), people.get(case.student_b)) for case in cases(gradebook.session)]
        return render(
            request,
            "plagiarism.html",
            {"cases": listed, "runs": runs(gradebook.session), "assignments": ctx.assignments()},
        )


@router.post("/instructor/plagiarism/runs")
def start_run(
    assignment_id: str = Form(...),
    csrf_token: str = Form(""),
    viewer: Viewer = Depends(instructor_page_viewer),
    ctx: AppContext = Depends(app_context),
) -> Response:
    """Only queued here: the detector loads a language model and compares every pair, work for the grading process."""
    check_csrf(viewer, csrf_token)
    ctx.assignment(assignment_id)
    with ctx.unit_of_work() as gradebook:
        request_run(gradebook.session, assignment_id, viewer.email)
    return RedirectResponse("/instructor/plagiarism", status_code=303)


@router.get("/instructor/plagiarism/cases/{case_id}", response_class=HTMLResponse)
def case_page(
    request: Request,
    case_id: int,
    viewer: Viewer = Depends(instructor_page_viewer),
    ctx: AppContext = Depends(app_context),
) -> Response:
    with ctx.unit_of_work() as gradebook:
        case = gradebook.session.get(PlagiarismCase, case_id)
        if case is None:
            raise NotFound(f"no plagiarism case {case_id}")
        people = people_by_key(gradebook)
        max_points = ctx.rules.points_for(case.assignment_id)
        return render(
            request,
            "plagiarism_case.html",
            {
                "case": case,
                "left": people.get(case.student_a),
                "right": people.get(case.student_b),
                "penalty_points": round(ctx.rules.plagiarism_penalty * max_points, 2),
                "max_points": max_points,
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
    if decision not in DECISIONS:
        raise InvalidInput(f"a decision is one of {', '.join(DECISIONS)}, not {decision!r}")
    if not comment.strip():
        raise InvalidInput("a decision needs a comment: say what you saw, for the students and the audit trail")
    with ctx.unit_of_work() as gradebook:
        try:
            decide(gradebook.session, case_id, decision, comment.strip(), viewer.email)  # type: ignore[arg-type]
        except CaseNotFound as error:
            raise NotFound(str(error)) from error
    return RedirectResponse(f"/instructor/plagiarism/cases/{case_id}", status_code=303)
