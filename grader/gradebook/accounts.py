"""Accounts: users, invitations, web sessions and API tokens. Only digests of the tokens handed out are stored."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from grader.db.base import utcnow
from grader.db.models import ApiToken, User, WebSession
from grader.gradebook.signed_in import token_digest


@dataclass(frozen=True)
class RosterEntry:
    email: str
    name: str
    student_number: str | None = None


class Accounts:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- people and invitations ------------------------------------------------------------------------------------
    def user(self, user_id: int) -> User | None:
        return self.session.get(User, user_id)

    def user_by_email(self, email: str) -> User | None:
        return self.session.scalar(select(User).where(User.email == email.strip().lower()))

    def student_by_number(self, student_number: str) -> User | None:
        return self.session.scalar(
            select(User).where(User.student_number == student_number, User.role == "student").order_by(User.id).limit(1)
        )

    def students(self) -> list[User]:
        return list(self.session.scalars(select(User).where(User.role == "student").order_by(User.name, User.email)))

    def add_user(self, entry: RosterEntry, role: str) -> tuple[User, str]:
        """Create an account with a one-time invitation token (returned once; only its digest is stored)."""
        user = User(
            email=entry.email.strip().lower(), name=entry.name.strip(), student_number=entry.student_number, role=role
        )
        self.session.add(user)
        invite = self.reissue_invite(user)
        self.session.flush()
        return user, invite

    def reissue_invite(self, user: User) -> str:
        """A fresh one-time link to set a password; the previous password, open sessions and API tokens stop working."""
        invite = secrets.token_urlsafe(32)
        user.password_hash = None
        user.invite_token_hash = token_digest(invite)
        self.sign_out_everywhere(user)
        return invite

    def import_roster(self, entries: Iterable[RosterEntry]) -> list[tuple[User, str]]:
        """Add the students not yet known; existing accounts are left as they are."""
        created = []
        for entry in entries:
            if self.user_by_email(entry.email) is None:
                created.append(self.add_user(entry, "student"))
        return created

    def user_by_invite(self, invite: str) -> User | None:
        return self.session.scalar(select(User).where(User.invite_token_hash == token_digest(invite)))

    def set_password(self, user: User, password_hash: str) -> None:
        """A new password ends every open session and revokes every API token of the account."""
        user.password_hash = password_hash
        user.invite_token_hash = None
        self.sign_out_everywhere(user)

    def sign_out_everywhere(self, user: User) -> None:
        self.session.execute(delete(WebSession).where(WebSession.user_id == user.id))
        self.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))

    # --- sessions and API tokens -----------------------------------------------------------------------------------
    def open_session(self, user: User, lifetime: timedelta) -> tuple[str, WebSession]:
        token = secrets.token_urlsafe(32)
        web_session = WebSession(
            token_hash=token_digest(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            expires_at=utcnow() + lifetime,
        )
        self.session.add(web_session)
        return token, web_session

    def close_session(self, token: str) -> None:
        web_session = self.session.get(WebSession, token_digest(token))
        if web_session is not None:
            self.session.delete(web_session)

    def issue_api_token(self, user: User, label: str) -> str:
        token = secrets.token_urlsafe(32)
        self.session.add(ApiToken(user_id=user.id, token_hash=token_digest(token), label=label))
        return token

    def api_tokens(self, user_id: int) -> list[ApiToken]:
        return list(self.session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)))

    def revoke_api_token(self, user_id: int, token_id: int) -> bool:
        """Only the owner's own token; False when there is none such."""
        return bool(
            self.session.execute(delete(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)).rowcount
        )
