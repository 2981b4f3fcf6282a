"""Pages of one's account: signing in (throttled), invitations, signing out, password change and API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from grader.db.base import utcnow
from grader.services.access import Forbidden, NotFound
from grader.web.auth import app_context, check_csrf, page_viewer
from grader.web.context import AppContext
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
from grader.web.throttle import forget_failures, record_failure, seconds_to_wait

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
        token, _ = gradebook.accounts.open_session(gradebook.accounts.user(user_id), ctx.options.session_lifetime)
    response = _redirect(to)
    set_cookie(request, response, SESSION_COOKIE, token, int(ctx.options.session_lifetime.total_seconds()))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


def _password_problem(password: str, password_again: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters."
    if password != password_again:
        return "The two passwords differ."
    return None


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# --- signing in ----------------------------------------------------------------------------------------------------
@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    return _anonymous_form(request, "login.html", {"error": None})


@router.post("/login")
def login(
    request: Request,
    email: str = Form(...),
    password: str = Form(...),
    csrf_token: str = Form(""),
    ctx: AppContext = Depends(app_context),
) -> Response:
    _check_login_csrf(request, csrf_token)
    email, address, now = email.strip().lower(), client_address(request), utcnow()
    with ctx.unit_of_work() as gradebook:
        wait = seconds_to_wait(gradebook.session, email, address, now, ctx.options.sign_in)
        if wait:
            error = (
                f"Too many failed sign-ins for this account or from this network. Try again in {wait} seconds; "
                "if you forgot your password, ask an instructor for a new invitation link."
            )
            return _anonymous_form(request, "login.html", {"error": error}, status_code=429)
        user = gradebook.accounts.user_by_email(email)
        matches = password_matches(user.password_hash if user else None, password)
        if matches:
            forget_failures(gradebook.session, email)
        else:
            record_failure(gradebook.session, email, address, now)
        user_id = user.id if matches else None
    if user_id is None:
        return _anonymous_form(request, "login.html", {"error": "E-mail or password is wrong."}, status_code=400)
    return _signed_in(request, ctx, user_id, "/")


@router.get("/invite/{invite}", response_class=HTMLResponse)
def invite_form(request: Request, invite: str, ctx: AppContext = Depends(app_context)) -> Response:
    with ctx.unit_of_work() as gradebook:
        user = gradebook.accounts.user_by_invite(invite)
        if user is None:
            raise NotFound("this invitation link was already used or is not valid; ask an instructor for a new one")
        name = user.name
    return _anonymous_form(request, "invite.html", {"name": name, "invite": invite, "error": None})


@router.post("/invite/{invite}")
def accept_invite(
    request: Request,
    invite: str,
    password: str = Form(...),
    password_again: str = Form(...),
    csrf_token: str = Form(""),
    ctx: AppContext = Depends(app_context),
) -> Response:
    _check_login_csrf(request, csrf_token)
    error = _password_problem(password, password_again)
    with ctx.unit_of_work() as gradebook:
        user = gradebook.accounts.user_by_invite(invite)
        if user is None:
            raise NotFound("this invitation link was already used or is not valid; ask an instructor for a new one")
        if error is None:
            gradebook.accounts.set_password(user, hash_password(password))
        user_id, name = user.id, user.name
    if error is not None:
        return _anonymous_form(
            request, "invite.html", {"name": name, "invite": invite, "error": error}, status_code=400
        )
    return _signed_in(request, ctx, user_id, "/")


@router.post("/logout")
def logout(
    request: Request,
    csrf_token: str = Form(""),
    viewer: Viewer = Depends(page_viewer),
    ctx: AppContext = Depends(app_context),
) -> Response:
    check_csrf(viewer, csrf_token)
    with ctx.unit_of_work() as gradebook:
        gradebook.accounts.close_session(request.cookies[SESSION_COOKIE])
    response = _redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- the account page ------------------------------------------------------------------------------------------------
def _account_page(request: Request, ctx: AppContext, viewer: Viewer, status_code: int = 200, **shown) -> Response:
    with ctx.unit_of_work() as gradebook:
        tokens = [(token.id, token.label, token.created_at) for token in gradebook.accounts.api_tokens(viewer.id)]
    context = {"new_token": None, "message": None, "error": None, **shown, "tokens": tokens}
    return render(request, "account.html", context, status_code=status_code)


@router.get("/account", response_class=HTMLResponse)
def account(
    request: Request, viewer: Viewer = Depends(page_viewer), ctx: AppContext = Depends(app_context)
) -> Response:
    return _account_page(request, ctx, viewer)


@router.post("/account/api-tokens", response_class=HTMLResponse)
def new_api_token(
    request: Request,
    label: str = Form("script"),
    csrf_token: str = Form(""),
    viewer: Viewer = Depends(page_viewer),
    ctx: AppContext = Depends(app_context),
) -> Response:
    check_csrf(viewer, csrf_token)
    with ctx.unit_of_work() as gradebook:
        token = gradebook.accounts.issue_api_token(gradebook.accounts.user(viewer.id), label[:200])
    return _account_page(request, ctx, viewer, new_token=token)


@router.post("/account/api-tokens/{token_id}/revoke", response_class=HTMLResponse)
def revoke_api_token(
    request: Request,
    token_id: int,
    csrf_token: str = Form(""),
    viewer: Viewer = Depends(page_viewer),
    ctx: AppContext = Depends(app_context),
) -> Response:
    check_csrf(viewer, csrf_token)
    with ctx.unit_of_work() as gradebook:
        if not gradebook.accounts.revoke_api_token(viewer.id, token_id):
            raise NotFound("no such token of yours; it may be revoked already")
    return _account_page(
        request, ctx, viewer, message="The token is revoked: scripts using it are refused from now on."
    )


@router.post("/account/password", response_class=HTMLResponse)
def change_password(
    request: Request,
    current_password: str = Form(...),
    password: str = Form(...),
    password_again: str = Form(...),
    csrf_token: str = Form(""),
    viewer: Viewer = Depends(page_viewer),
    ctx: AppContext = Depends(app_context),
) -> Response:
    """A new password signs the account out everywhere and revokes its API tokens; this browser signs in anew."""
    check_csrf(viewer, csrf_token)
    with ctx.unit_of_work() as gradebook:
        user = gradebook.accounts.user(viewer.id)
        error = (
            None if password_matches(user.password_hash, current_password) else "The current password is wrong."
        ) or _password_problem(password, password_again)
        if error is None:
            gradebook.accounts.set_password(user, hash_password(password))
    if error is not None:
        return _account_page(request, ctx, viewer, status_code=400, error=error)
    return _signed_in(request, ctx, viewer.id, "/account")
