"""Server-rendered pages. Every POST checks the CSRF token; every instructor route checks the role."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from grader.gradebook.manual_scores import COURSE_LEVEL
from grader.services import deadlines, grades, plagiarism, regrade_requests, regrades, submissions
from grader.services.access import InvalidInput
from grader.web.auth import app_context, check_csrf, instructor_page_viewer, page_uploader, page_viewer
from grader.web.context import AppContext
from grader.web.errors import ERRORS, upload_error_detail
from grader.web.handouts import handout_view
from grader.web.rendering import render
from grader.web.security import Viewer
from grader.web.submission_details import check_rows, code_css, highlighted_files, sandbox_view
from grader.web.uploads import BadUpload, UploadTooLarge, receive_and_submit

router = APIRouter(include_in_schema=False)


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# --- students --------------------------------------------------------------------------------------------------------
@router.get("/")
def home(viewer: Viewer = Depends(page_viewer)) -> Response:
    return _redirect("/instructor" if viewer.is_instructor else "/assignments")


@router.get("/assignments", response_class=HTMLResponse)
def assignments(
    request: Request, viewer: Viewer = Depends(page_viewer), ctx: AppContext = Depends(app_context)
) -> Response:
    rows = [
        (
            assignment,
            submissions.attempt_rows(ctx, viewer, viewer.id, assignment),
            deadlines.dates_of(ctx, viewer.id, assignment),
        )
        for assignment in ctx.assignments()
    ]
    return render(request, "assignments.html", {"rows": rows, "rules": ctx.rules})


@router.get("/assignments/{assignment_id}", response_class=HTMLResponse)
def assignment(
    request: Request, assignment_id: str, viewer: Viewer = Depends(page_viewer), ctx: AppContext = Depends(app_context)
) -> Response:
    return _assignment_page(request, ctx, viewer, assignment_id)


def _assignment_page(
    request: Request,
    ctx: AppContext,
    viewer: Viewer,
    assignment_id: str,
    upload_error: str | None = None,
    status_code: int = 200,
) -> Response:
    course_assignment = ctx.assignment(assignment_id)
    return render(
        request,
        "assignment.html",
        {
            "penalties": plagiarism.penalties(ctx, viewer.id, assignment_id),
            "assignment": course_assignment,
            "attempts": submissions.attempt_rows(ctx, viewer, viewer.id, course_assignment),
            "outlook": deadlines.upload_outlook(ctx, viewer, course_assignment),
            "confirm_field": deadlines.CONFIRM_FIELD,
            "handout": handout_view(ctx.settings, assignment_id, course_assignment.spec.limits),
            "max_upload_mib": ctx.settings.max_upload_bytes // (1024 * 1024),
            "rules": ctx.rules,
            "upload_error": upload_error,
        },
        status_code=status_code,
    )


@router.post("/assignments/{assignment_id}/submissions")
async def upload(
    request: Request,
    assignment_id: str,
    viewer: Viewer = Depends(page_uploader),
    ctx: AppContext = Depends(app_context),
) -> Response:
    """A refused upload comes back to the assignment page, its reason above the form, to try again at once."""
    outlook = await run_in_threadpool(deadlines.upload_outlook, ctx, viewer, ctx.assignment(assignment_id))

    def check_fields(fields: dict[str, str]) -> None:
        check_csrf(viewer, fields.get("csrf_token"))
        deadlines.check_confirmed(outlook, fields)

    try:
        recorded = await receive_and_submit(request, ctx, viewer, assignment_id, check_fields)
    except (InvalidInput, BadUpload, UploadTooLarge) as error:
        status, title = ERRORS[type(error)]
        detail = upload_error_detail(error, ctx.settings)
        return _assignment_page(request, ctx, viewer, assignment_id, f"{title}: {detail}", status)
    return _redirect(f"/submissions/{recorded.submission_id}")


@router.get("/submissions/{submission_id}", response_class=HTMLResponse)
def submission(
    request: Request, submission_id: int, viewer: Viewer = Depends(page_viewer), ctx: AppContext = Depends(app_context)
) -> Response:
    page = submissions.submission_page(ctx, viewer, submission_id)
    return render(
        request,
        "submission.html",
        {
            "page": page,
            "poll_ms": ctx.options.status_poll_ms,
            "rules": ctx.rules,
            "requests": regrade_requests.requests_on(ctx, page),
        },
    )


@router.get("/submissions/{submission_id}/status")
def submission_status(
    submission_id: int, viewer: Viewer = Depends(page_viewer), ctx: AppContext = Depends(app_context)
) -> dict:
    """Polled by the submission page until grading ends."""
    page = submissions.submission_page(ctx, viewer, submission_id)
    return {"status": page.status, "finished": page.result is not None}


# --- instructors -----------------------------------------------------------------------------------------------------
@router.get("/instructor", response_class=HTMLResponse)
def dashboard(
    request: Request, viewer: Viewer = Depends(instructor_page_viewer), ctx: AppContext = Depends(app_context)
) -> Response:
    assignments_, rows = grades.dashboard_rows(ctx, viewer)
    return render(
        request,
        "dashboard.html",
        {
            "assignments": assignments_,
            "rows": rows,
            "rules": ctx.rules,
            "workers": grades.grading_workers(ctx, viewer),
        },
    )


@router.get("/instructor/grades.csv")
def export(viewer: Viewer = Depends(instructor_page_viewer), ctx: AppContext = Depends(app_context)) -> Response:
    return PlainTextResponse(
        grades.export_grades(ctx, viewer),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="grades.csv"'},
    )


@router.get("/instructor/students/{student_id}", response_class=HTMLResponse)
def student(
    request: Request,
    student_id: int,
    viewer: Viewer = Depends(instructor_page_viewer),
    ctx: AppContext = Depends(app_context),
) -> Response:
    record = grades.student_record(ctx, viewer, student_id)
    return render(
        request,
        "student.html",
        {
            "person": record.person,
            "history": record.history,
            "audit": record.audit,
            "items": grades.manual_items(ctx),
            "manual_now": record.manual_now,
            "course_level": COURSE_LEVEL,
            "manual_alone": record.manual_alone,
            "extensions": deadlines.extension_rows(ctx, viewer, student_id),
            "dates": {a.id: deadlines.dates_of(ctx, student_id, a) for a in ctx.assignments()},
        },
    )


@router.post("/instructor/manual-scores")
def manual_score(
    student_id: int = Form(...),
    assignment_id: str = Form(""),
    item: str = Form(...),
    points: float = Form(...),
    note: str = Form(""),
    csrf_token: str = Form(""),
    viewer: Viewer = Depends(instructor_page_viewer),
    ctx: AppContext = Depends(app_context),
) -> Response:
    check_csrf(viewer, csrf_token)
    grades.enter_manual_score(ctx, viewer, student_id, assignment_id, item, points, note)
    return _redirect(f"/instructor/students/{student_id}")


@router.get("/instructor/submissions/{submission_id}", response_class=HTMLResponse)
def instructor_submission(
    request: Request,
    submission_id: int,
    viewer: Viewer = Depends(instructor_page_viewer),
    ctx: AppContext = Depends(app_context),
) -> Response:
    page = submissions.submission_page(ctx, viewer, submission_id)
    tree, files = submissions.stored_files(ctx, viewer, submission_id)
    result = submissions.current_result(ctx, viewer, submission_id)
    return render(
        request,
        "instructor_submission.html",
        {
            "page": page,
            "files": files,
            "graded_on": submissions.graded_on(ctx, submission_id),
            "requests": regrade_requests.requests_on(ctx, page),
            "checks": check_rows(result),
            "sandbox": sandbox_view(result),
            "code": highlighted_files(tree, files),
        },
    )


@router.get("/instructor/code.css")
def code_stylesheet(viewer: Viewer = Depends(instructor_page_viewer)) -> Response:
    return Response(code_css(), media_type="text/css")


@router.get("/instructor/submissions/{submission_id}/files/{relative:path}")
def instructor_file(
    submission_id: int,
    relative: str,
    viewer: Viewer = Depends(instructor_page_viewer),
    ctx: AppContext = Depends(app_context),
) -> Response:
    path = submissions.stored_file(ctx, viewer, submission_id, relative)
    # Served as plain text and as an attachment: student files are never rendered as HTML on this origin.
    return FileResponse(
        path, media_type="text/plain; charset=utf-8", filename=path.name, content_disposition_type="attachment"
    )


@router.post("/instructor/regrades")
def regrade(
    assignment_id: str = Form(...),
    submission_id: str = Form(""),
    csrf_token: str = Form(""),
    viewer: Viewer = Depends(instructor_page_viewer),
    ctx: AppContext = Depends(app_context),
) -> Response:
    check_csrf(viewer, csrf_token)
    if submission_id and not submission_id.isdigit():
        raise InvalidInput("submission id must be a number")
    batch_id = regrades.start_regrade(ctx, viewer, assignment_id, int(submission_id) if submission_id else None)
    return _redirect(f"/instructor/regrades/{batch_id}")


@router.get("/instructor/regrades/{batch_id}", response_class=HTMLResponse)
def regrade_page(
    request: Request,
    batch_id: int,
    viewer: Viewer = Depends(instructor_page_viewer),
    ctx: AppContext = Depends(app_context),
) -> Response:
    return render(
        request,
        "regrade.html",
        {"regrade": regrades.regrade_status(ctx, viewer, batch_id), "poll_ms": ctx.options.status_poll_ms},
    )


@router.post("/instructor/regrades/{batch_id}/publish")
def publish(
    batch_id: int,
    csrf_token: str = Form(""),
    viewer: Viewer = Depends(instructor_page_viewer),
    ctx: AppContext = Depends(app_context),
) -> Response:
    check_csrf(viewer, csrf_token)
    regrades.publish_regrade(ctx, viewer, batch_id)
    return _redirect(f"/instructor/regrades/{batch_id}")
