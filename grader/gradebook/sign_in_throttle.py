"""Sign-in throttling, per account and per address: after a number of free failures, each further failure doubles
the wait before the next try. Kept in the gradebook, so every web process of `grader serve` sees the same counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from grader.db.account_models import SignInFailure


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures_per_account: int = 5
    free_failures_per_address: int = 20  # a lecture hall signs in from one NAT address
    first_wait: timedelta = timedelta(seconds=30)
    longest_wait: timedelta = timedelta(minutes=15)
    memory: timedelta = timedelta(hours=1)  # failures older than this are forgotten


def _wait_after(failures: int, free: int, policy: ThrottlePolicy) -> timedelta:
    if failures < free:
        return timedelta(0)
    return min(policy.first_wait * 2 ** (failures - free), policy.longest_wait)


def _failures(session: Session, column, value: str, since: datetime) -> tuple[int, datetime | None]:
    count, latest = session.execute(
        select(func.count(), func.max(SignInFailure.at)).where(column == value, SignInFailure.at >= since)
    ).one()
    return count, latest


def seconds_to_wait(session: Session, email: str, address: str, now: datetime, policy: ThrottlePolicy) -> int:
    """0 when this account may try to sign in from this address now, else how many seconds are left to wait."""
    waits = []
    for column, value, free in (
        (SignInFailure.email, email, policy.free_failures_per_account),
        (SignInFailure.address, address, policy.free_failures_per_address),
    ):
        count, latest = _failures(session, column, value, now - policy.memory)
        if latest is not None:
            waits.append(latest + _wait_after(count, free, policy) - now)
    longest = max(waits, default=timedelta(0))
    return max(0, int(-(-longest.total_seconds() // 1)))  # rounded up: "try again in 0 seconds" would be wrong


def record_failure(session: Session, email: str, address: str, now: datetime) -> None:
    session.add(SignInFailure(email=email, address=address, at=now))


def forget_failures(session: Session, email: str) -> None:
    """After a right password: the account's count starts again (the address keeps its own)."""
    session.execute(delete(SignInFailure).where(SignInFailure.email == email))
