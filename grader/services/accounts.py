"""One's account: signing in (throttled per account and per address), invitations, sessions, password changes and API
tokens. The web keeps the cookies; these functions keep the rules."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from grader.db.base import utcnow
from grader.gradebook.passwords import hash_password, password_matches, password_problem
from grader.gradebook.sign_in_throttle import ThrottlePolicy, forget_failures, record_failure, seconds_to_wait
from grader.services.access import Caller, InvalidInput, NotFound, RateLimited
from grader.services.context import ServiceContext

INVITE_UNUSABLE = "this invitation link was already used or is not valid; ask an instructor for a new one"


class TokenRow(NamedTuple):  # a tuple: the page unpacks it
    id: int
    label: str
    created_at: datetime


def sign_in(ctx: ServiceContext, email: str, password: str, address: str, policy: ThrottlePolicy) -> int:
    """The account's id. A failure is recorded even though the call raises: `RateLimited` while this account or
    address must wait, `InvalidInput` for a wrong e-mail or password (which one is not said)."""
    email, now = email.strip().lower(), utcnow()
    with ctx.unit_of_work() as gradebook:
        wait = seconds_to_wait(gradebook.session, email, address, now, policy)
        if not wait:
            user = gradebook.accounts.user_by_email(email)
            matches = password_matches(user.password_hash if user else None, password)
            if matches:
                forget_failures(gradebook.session, email)
            else:
                record_failure(gradebook.session, email, address, now)
            user_id = user.id if matches else None
    if wait:
        raise RateLimited(
            f"Too many failed sign-ins for this account or from this network. Try again in {wait} seconds; "
            "if you forgot your password, ask an instructor for a new invitation link."
        )
    if user_id is None:
        raise InvalidInput("E-mail or password is wrong.")
    return user_id


def open_session(ctx: ServiceContext, user_id: int, lifetime: timedelta) -> str:
    """A new web session's token."""
    with ctx.unit_of_work() as gradebook:
        token, _ = gradebook.accounts.open_session(gradebook.accounts.user(user_id), lifetime)
    return token


def close_session(ctx: ServiceContext, token: str) -> None:
    with ctx.unit_of_work() as gradebook:
        gradebook.accounts.close_session(token)


def invited_name(ctx: ServiceContext, invite: str) -> str:
    with ctx.unit_of_work() as gradebook:
        user = gradebook.accounts.user_by_invite(invite)
        if user is None:
            raise NotFound(INVITE_UNUSABLE)
        return user.name


def accept_invitation(ctx: ServiceContext, invite: str, password: str, password_again: str) -> int:
    """Sets the invited account's first password; its id. `InvalidInput` says what the password lacks."""
    with ctx.unit_of_work() as gradebook:
        user = gradebook.accounts.user_by_invite(invite)
        if user is None:
            raise NotFound(INVITE_UNUSABLE)
        problem = password_problem(password, password_again)
        if problem is None:
            gradebook.accounts.set_password(user, hash_password(password))
        user_id = user.id
    if problem is not None:
        raise InvalidInput(problem)
    return user_id


def change_password(ctx: ServiceContext, caller: Caller, current: str, password: str, password_again: str) -> None:
    """Signs the account out everywhere and revokes its API tokens (`Accounts.set_password`)."""
    with ctx.unit_of_work() as gradebook:
        user = gradebook.accounts.user(caller.id)
        problem = (
            None if password_matches(user.password_hash, current) else "The current password is wrong."
        ) or password_problem(password, password_again)
        if problem is None:
            gradebook.accounts.set_password(user, hash_password(password))
    if problem is not None:
        raise InvalidInput(problem)


def api_tokens(ctx: ServiceContext, caller: Caller) -> list[TokenRow]:
    with ctx.unit_of_work() as gradebook:
        return [TokenRow(token.id, token.label, token.created_at) for token in gradebook.accounts.api_tokens(caller.id)]


def issue_api_token(ctx: ServiceContext, caller: Caller, label: str) -> str:
    """The token itself, shown once: only its digest is kept."""
    with ctx.unit_of_work() as gradebook:
        return gradebook.accounts.issue_api_token(gradebook.accounts.user(caller.id), label[:200])


def revoke_api_token(ctx: ServiceContext, caller: Caller, token_id: int) -> None:
    with ctx.unit_of_work() as gradebook:
        if not gradebook.accounts.revoke_api_token(caller.id, token_id):
            raise NotFound("no such token of yours; it may be revoked already")
