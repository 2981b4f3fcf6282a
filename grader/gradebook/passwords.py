"""Passwords: argon2 hashes, checked in constant time whether or not the account has one, and the rules a new
password must meet."""

from __future__ import annotations

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return PasswordHasher().hash(password)


@cache
def _stand_in_hash() -> str:
    return hash_password(secrets.token_urlsafe(32))


def password_matches(password_hash: str | None, password: str) -> bool:
    """Without a hash (an unknown e-mail, an account still invited) a stand-in hash is checked all the same: the
    answer takes as long as for a known account, so its timing does not tell which e-mails have one."""
    try:
        return PasswordHasher().verify(password_hash or _stand_in_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str, password_again: str) -> str | None:
    """What is wrong with a new password, said to its owner; None when it will do."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters."
    if password != password_again:
        return "The two passwords differ."
    return None
