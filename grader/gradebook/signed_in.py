"""Who is asking: the user behind a session cookie or an API token.

Every request reads this, so it is read on a bare connection with prebuilt Core statements: an ORM query through a
session costs several times as much as the SQLite lookup itself, and an upload burst pays that cost per upload.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Literal

from sqlalchemy import Connection, Select, bindparam, func, literal, select

from grader.db.base import UtcDateTime, utcnow
from grader.db.models import ApiToken, Submission, User, WebSession


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


Credential = Literal["api_token", "session"]


@dataclass(frozen=True)
class SignedIn:
    user_id: int
    email: str
    name: str
    role: str
    csrf_token: str  # "" for an API token: no forms
    uploads_in_window: int  # 0 unless asked for: the submissions since `uploads_since`


@cache
def _signed_in_query(credential: Credential, count_uploads: bool) -> Select:
    users, submissions = User.__table__, Submission.__table__
    uploads = (
        select(func.count())
        .where(
            submissions.c.user_id == users.c.id, submissions.c.submitted_at >= bindparam("since", type_=UtcDateTime())
        )
        .scalar_subquery()
        if count_uploads
        else literal(0)
    )
    if credential == "api_token":
        tokens = ApiToken.__table__
        return (
            select(users.c.id, users.c.email, users.c.name, users.c.role, literal(""), uploads)
            .join_from(users, tokens, tokens.c.user_id == users.c.id)
            .where(tokens.c.token_hash == bindparam("digest"))
        )
    sessions = WebSession.__table__
    return (
        select(users.c.id, users.c.email, users.c.name, users.c.role, sessions.c.csrf_token, uploads)
        .join_from(users, sessions, sessions.c.user_id == users.c.id)
        .where(
            sessions.c.token_hash == bindparam("digest"), sessions.c.expires_at > bindparam("now", type_=UtcDateTime())
        )
    )


def signed_in(
    connection: Connection, credential: Credential, token: str, uploads_since: datetime | None = None
) -> SignedIn | None:
    """The user a session cookie (live) or API token belongs to; with `uploads_since`, also their recent uploads."""
    row = connection.execute(
        _signed_in_query(credential, uploads_since is not None),
        {"digest": token_digest(token), "now": utcnow(), "since": uploads_since},
    ).first()
    return SignedIn(*row) if row is not None else None
