"""Pages of one's account: signing in (throttled), invitations, signing out, password change and API tokens. The
rules are grader/services/accounts.py's; these pages keep the cookies."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from grader.services import accounts
from grader.services.access import Forbidden, InvalidInput, RateLimited
from grader.web.auth import app_context, check_csrf, page_viewer
from grader.web.context import AppContext
from grader.web.rendering import render
from grader.web.security import LOGIN_CSRF_COOKIE, SESSION_COOKIE, Viewer, login_csrf_token, set_cookie, tokens_equal

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
    token = accounts.open_session(ctx, user_id, ctx.options.session_lifetime)
    response = _redirect(to)
    set_cookie(request, response, SESSION_COOKIE, token, int(ctx.options.session_lifetime.total_seconds()))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


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
    try:
        user_id = accounts.sign_in(ctx, email, password, client_address(request), ctx.options.sign_in)
    except RateLimited as error:
        return _anonymous_form(request, "login.html", {"error": str(error)}, status_code=429)
    except InvalidInput as error:
        return _anonymous_form(request, "login.html", {"error": str(error)}, status_code=400)
    return _signed_in(request, ctx, user_id, "/")


@router.get("/invite/{invite}", response_class=HTMLResponse)
def invite_form(request: Request, invite: str, ctx: AppContext = Depends(app_context)) -> Response:
    name = accounts.invited_name(ctx, invite)
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
    try:
        user_id = accounts.accept_invitation(ctx, invite, password, password_again)
    except InvalidInput as error:
        name = accounts.invited_name(ctx, invite)
        context = {"name": name, "invite": invite, "error": str(error)}
        return _anonymous_form(request, "invite.html", context, status_code=400)
    return _signed_in(request, ctx, user_id, "/")


@router.post("/logout")
def logout(
    request: Request,
    csrf_token: str = Form(""),
    viewer: Viewer = Depends(page_viewer),
    ctx: AppContext = Depends(app_context),
) -> Response:
    check_csrf(viewer, csrf_token)
    accounts.close_session(ctx, request.cookies[SESSION_COOKIE])
    response = _redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- the account page ------------------------------------------------------------------------------------------------
def _account_page(request: Request, ctx: AppContext, viewer: Viewer, status_code: int = 200, **shown) -> Response:
    context = {"new_token": None, "message": None, "error": None, **shown, "tokens": accounts.api_tokens(ctx, viewer)}
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
    return _account_page(request, ctx, viewer, new_token=accounts.issue_api_token(ctx, viewer, label))


@router.post("/account/api-tokens/{token_id}/revoke", response_class=HTMLResponse)
def revoke_api_token(
    request: Request,
    token_id: int,
    csrf_token: str = Form(""),
    viewer: Viewer = Depends(page_viewer),
    ctx: AppContext = Depends(app_context),
) -> Response:
    check_csrf(viewer, csrf_token)
    accounts.revoke_api_token(ctx, viewer, token_id)
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
    try:
        accounts.change_password(ctx, viewer, current_password, password, password_again)
    except InvalidInput as error:
        return _account_page(request, ctx, viewer, status_code=400, error=str(error))
    return _signed_in(request, ctx, viewer.id, "/account")
