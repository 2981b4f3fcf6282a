"""Server-rendered pages. Every POST checks the CSRF token; every instructor route checks the role."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, Response

from grader.gradebook.repository import COURSE_LEVEL
from grader.queue.celery_queue import worker_statuses
from grader.web import services
from grader.web.auth import app_context, check_csrf, instructor_page_viewer, page_uploader, page_viewer
from grader.web.rendering import render
from grader.web.security import (
    LOGIN_CSRF_COOKIE,
    MIN_PASSWORD_LENGTH,
    SESSION_COOKIE,
    Viewer,
    hash_password,
    login_csrf_token,
    password_matches,
    set_cookie,
    tokens_equal,
)
from grader.web.services import AppContext, Forbidden, InvalidInput, NotFound

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_MAX_AGE = 3600


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _anonymous_form(request: Request, template: str, context: dict, status_code: int = 200) -> Response:
    token = login_csrf_token(request)
    response = render(request, template, {**context, "csrf_token": token}, status_code=status_code)
    set_cookie(request, response, LOGIN_CSRF_COOKIE, token, LOGIN_CSRF_MAX_AGE)
    return response


def _check_login_csrf(request: Request, submitted: str) -> None:
    if not tokens_equal(request.cookies.get(LOGIN_CSRF_COOKIE), submitted):
        raise Forbidden("the form was stale or did not come from this site; reload the page and try again")


def _signed_in(request: Request, ctx: AppContext, user_id: int, to: str) -> Response:
    with ctx.unit_of_work() as gradebook:
        token, _ = gradebook.open_session(gradebook.user(user_id), ctx.options.session_lifetime)
    response = _redirect(to)
    set_cookie(request, response, SESSION_COOKIE, token, int(ctx.options.session_lifetime.total_seconds()))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


# --- signing in ----------------------------------------------------------------------------------------------------
@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    return _anonymous_form(request, "login.html", {"error": None})


@router.post("/login")
def login(request: Request, email: str = Form(...), password: str = Form(...), csrf_token: str = Form(""),
          ctx: AppContext = Depends(app_context)) -> Response:
    _check_login_csrf(request, csrf_token)
    with ctx.unit_of_work() as gradebook:
        user = gradebook.user_by_email(email)
        user_id = user.id if user and password_matches(user.password_hash, password) else None
    if user_id is None:
        return _anonymous_form(request, "login.html", {"error": "E-mail or password is wrong."}, status_code=400)
    return _signed_in(request, ctx, user_id, "/")


@router.get("/invite/{invite}", response_class=HTMLResponse)
def invite_form(request: Request, invite: str, ctx: AppContext = Depends(app_context)) -> Response:
    with ctx.unit_of_work() as gradebook:
        user = gradebook.user_by_invite(invite)
        if user is None:
            raise NotFound("this invitation link was already used or is not valid; ask an instructor for a new one")
        name = user.name
    return _anonymous_form(request, "invite.html", {"name": name, "invite": invite, "error": None})


@router.post("/invite/{invite}")
def accept_invite(request: Request, invite: str, password: str = Form(...), password_again: str = Form(...),
                  csrf_token: str = Form(""), ctx: AppContext = Depends(app_context)) -> Response:
    _check_login_csrf(request, csrf_token)
    error = None
    if len(password) < MIN_PASSWORD_LENGTH:
        error = f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters."
    elif password != password_again:
        error = "The two passwords differ."
    with ctx.unit_of_work() as gradebook:
        user = gradebook.user_by_invite(invite)
        if user is None:
            raise NotFound("this invitation link was already used or is not valid; ask an instructor for a new one")
        if error is None:
            gradebook.set_password(user, hash_password(password))
        user_id, name = user.id, user.name
    if error is not None:
        return _anonymous_form(request, "invite.html", {"name": name, "invite": invite, "error": error},
                               status_code=400)
    return _signed_in(request, ctx, user_id, "/")


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form(""), viewer: Viewer = Depends(page_viewer),
           ctx: AppContext = Depends(app_context)) -> Response:
    check_csrf(viewer, csrf_token)
    with ctx.unit_of_work() as gradebook:
        gradebook.close_session(request.cookies[SESSION_COOKIE])
    response = _redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- students --------------------------------------------------------------------------------------------------------
@router.get("/")
def home(viewer: Viewer = Depends(page_viewer)) -> Response:
    return _redirect("/instructor" if viewer.is_instructor else "/assignments")


@router.get("/assignments", response_class=HTMLResponse)
def assignments(request: Request, viewer: Viewer = Depends(page_viewer),
                ctx: AppContext = Depends(app_context)) -> Response:
    rows = [(assignment, services.attempt_rows(ctx, viewer, viewer.id, assignment)) for assignment in ctx.assignments()]
    return render(request, "assignments.html", {"rows": rows})


@router.get("/assignments/{assignment_id}", response_class=HTMLResponse)
def assignment(request: Request, assignment_id: str, viewer: Viewer = Depends(page_viewer),
               ctx: AppContext = Depends(app_context)) -> Response:
    course_assignment = ctx.assignment(assignment_id)
    return render(request, "assignment.html", {
        "assignment": course_assignment,
        "attempts": services.attempt_rows(ctx, viewer, viewer.id, course_assignment),
        "max_upload_mib": ctx.settings.max_upload_bytes // (1024 * 1024),
        "rules": ctx.rules,
    })


@router.post("/assignments/{assignment_id}/submissions")
async def upload(request: Request, assignment_id: str, viewer: Viewer = Depends(page_uploader),
                 ctx: AppContext = Depends(app_context)) -> Response:
    recorded = await services.receive_and_submit(request, ctx, viewer, assignment_id,
                                                 lambda fields: check_csrf(viewer, fields.get("csrf_token")))
    return _redirect(f"/submissions/{recorded.submission_id}")


@router.get("/submissions/{submission_id}", response_class=HTMLResponse)
def submission(request: Request, submission_id: int, viewer: Viewer = Depends(page_viewer),
               ctx: AppContext = Depends(app_context)) -> Response:
    page = services.submission_page(ctx, viewer, submission_id)
    return render(request, "submission.html", {"page": page, "poll_ms": ctx.options.status_poll_ms})


@router.get("/submissions/{submission_id}/status")
def submission_status(submission_id: int, viewer: Viewer = Depends(page_viewer),
                      ctx: AppContext = Depends(app_context)) -> dict:
    """Polled by the submission page until grading ends."""
    page = services.submission_page(ctx, viewer, submission_id)
    return {"status": page.status, "finished": page.result is not None}


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, viewer: Viewer = Depends(page_viewer)) -> Response:
    return render(request, "account.html", {"new_token": None})


@router.post("/account/api-tokens", response_class=HTMLResponse)
def new_api_token(request: Request, label: str = Form("script"), csrf_token: str = Form(""),
                  viewer: Viewer = Depends(page_viewer), ctx: AppContext = Depends(app_context)) -> Response:
    check_csrf(viewer, csrf_token)
    with ctx.unit_of_work() as gradebook:
        token = gradebook.issue_api_token(gradebook.user(viewer.id), label[:200])
    return render(request, "account.html", {"new_token": token})


# --- instructors -----------------------------------------------------------------------------------------------------
@router.get("/instructor", response_class=HTMLResponse)
def dashboard(request: Request, viewer: Viewer = Depends(instructor_page_viewer),
              ctx: AppContext = Depends(app_context)) -> Response:
    assignments_, rows = services.dashboard_rows(ctx, viewer)
    return render(request, "dashboard.html", {"assignments": assignments_, "rows": rows, "rules": ctx.rules,
                                              "workers": worker_statuses(ctx.session_factory, ctx.settings)})


@router.get("/instructor/grades.csv")
def export(viewer: Viewer = Depends(instructor_page_viewer), ctx: AppContext = Depends(app_context)) -> Response:
    return PlainTextResponse(services.export_grades(ctx, viewer), media_type="text/csv",
                             headers={"Content-Disposition": 'attachment; filename="grades.csv"'})


@router.get("/instructor/students/{student_id}", response_class=HTMLResponse)
def student(request: Request, student_id: int, viewer: Viewer = Depends(instructor_page_viewer),
            ctx: AppContext = Depends(app_context)) -> Response:
    with ctx.unit_of_work() as gradebook:
        person = gradebook.user(student_id)
        if person is None or person.role != "student":
            raise NotFound("no such student")
        audit = gradebook.manual_entries(student_id)
        manual_now = {(a, i): gradebook.manual_points(student_id, a, i) for a, i in services.manual_items(ctx)}
        audit_rows = [(entry, entry.instructor.email) for entry in audit]
    history = [(a, services.attempt_rows(ctx, viewer, student_id, a)) for a in ctx.assignments()]
    return render(request, "student.html", {
        "person": person, "history": history, "audit": audit_rows, "items": services.manual_items(ctx),
        "manual_now": manual_now, "course_level": COURSE_LEVEL,
    })


@router.post("/instructor/manual-scores")
def manual_score(student_id: int = Form(...), assignment_id: str = Form(""), item: str = Form(...),
                 points: float = Form(...), note: str = Form(""), csrf_token: str = Form(""),
                 viewer: Viewer = Depends(instructor_page_viewer), ctx: AppContext = Depends(app_context)) -> Response:
    check_csrf(viewer, csrf_token)
    services.enter_manual_score(ctx, viewer, student_id, assignment_id, item, points, note)
    return _redirect(f"/instructor/students/{student_id}")


@router.get("/instructor/submissions/{submission_id}", response_class=HTMLResponse)
def instructor_submission(request: Request, submission_id: int, viewer: Viewer = Depends(instructor_page_viewer),
                          ctx: AppContext = Depends(app_context)) -> Response:
    page = services.submission_page(ctx, viewer, submission_id)
    _, files = services.stored_files(ctx, viewer, submission_id)
    return render(request, "instructor_submission.html", {"page": page, "files": files})


@router.get("/instructor/submissions/{submission_id}/files/{relative:path}")
def instructor_file(submission_id: int, relative: str, viewer: Viewer = Depends(instructor_page_viewer),
                    ctx: AppContext = Depends(app_context)) -> Response:
    path = services.stored_file(ctx, viewer, submission_id, relative)
    # Served as plain text and as an attachment: student files are never rendered as HTML on this origin.
    return FileResponse(path, media_type="text/plain; charset=utf-8", filename=path.name,
                        content_disposition_type="attachment")


@router.post("/instructor/regrades")
def regrade(assignment_id: str = Form(...), submission_id: str = Form(""), csrf_token: str = Form(""),
            viewer: Viewer = Depends(instructor_page_viewer), ctx: AppContext = Depends(app_context)) -> Response:
    check_csrf(viewer, csrf_token)
    if submission_id and not submission_id.isdigit():
        raise InvalidInput("submission id must be a number")
    batch_id = services.start_regrade(ctx, viewer, assignment_id, int(submission_id) if submission_id else None)
    return _redirect(f"/instructor/regrades/{batch_id}")


@router.get("/instructor/regrades/{batch_id}", response_class=HTMLResponse)
def regrade_page(request: Request, batch_id: int, viewer: Viewer = Depends(instructor_page_viewer),
                 ctx: AppContext = Depends(app_context)) -> Response:
    return render(request, "regrade.html", {"regrade": services.regrade_status(ctx, viewer, batch_id),
                                            "poll_ms": ctx.options.status_poll_ms})


@router.post("/instructor/regrades/{batch_id}/publish")
def publish(batch_id: int, csrf_token: str = Form(""), viewer: Viewer = Depends(instructor_page_viewer),
            ctx: AppContext = Depends(app_context)) -> Response:
    check_csrf(viewer, csrf_token)
    services.publish_regrade(ctx, viewer, batch_id)
    return _redirect(f"/instructor/regrades/{batch_id}")
