"""Defense entry on one page: every manual criterion of one project for one student in one form, with the running
total; each criterion given points becomes an audited manual score, with its note shown to the student
(grader/services/grades.py checks and enters them)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from grader.services import grades
from grader.services.access import InvalidInput
from grader.web.auth import app_context, check_csrf, instructor_page_viewer
from grader.web.context import AppContext
from grader.web.security import Viewer

router = APIRouter(include_in_schema=False)


def _entered(form: dict[str, str], criterion_ids: list[str]) -> dict[str, tuple[float, str]]:
    """Criterion id -> (points, note) for each criterion whose points field is filled in."""
    entered = {}
    for criterion_id in criterion_ids:
        raw = form.get(f"points:{criterion_id}", "").strip()
        if not raw:
            continue
        try:
            points = float(raw)
        except ValueError as error:
            raise InvalidInput(f"points for {criterion_id} must be a number, not {raw!r}") from error
        entered[criterion_id] = (points, form.get(f"note:{criterion_id}", "").strip())
    return entered


@router.post("/instructor/students/{student_id}/projects/{assignment_id}/manual-scores")
async def project_manual_scores(
    request: Request,
    student_id: int,
    assignment_id: str,
    viewer: Viewer = Depends(instructor_page_viewer),
    ctx: AppContext = Depends(app_context),
) -> Response:
    form = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    check_csrf(viewer, form.get("csrf_token"))
    assignment = ctx.assignment(assignment_id)
    entered = _entered(form, [c.id for c in assignment.manual_criteria])
    grades.enter_project_scores(ctx, viewer, student_id, assignment_id, entered)
    return RedirectResponse(f"/instructor/students/{student_id}#manual-{assignment_id}", status_code=303)
