"""Regrade requests: a student asks for a review of one criterion of one submission, with a message; an instructor
answers in the same thread, optionally overriding the criterion's points. An override moves the submission's score by
the difference to the automatic points it answered, so every total (dashboard, CSV, API) carries it."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.db.models import Submission, User
from grader.db.request_models import RegradeMessage, RegradeRequest


class RequestRefused(ValueError):
    """What the asker should change: an empty message, an unknown criterion, points out of range."""


def open_request(
    session: Session, submission: Submission, criterion_id: str, criteria: dict[str, float], student: User, body: str
) -> RegradeRequest:
    """`criteria`: the criteria the student sees on the result (id -> max points)."""
    if criterion_id not in criteria:
        raise RequestRefused(
            f"{criterion_id!r} is not a criterion you can see on this result; choose one from the list"
        )
    if not body.strip():
        raise RequestRefused("say what you think was graded wrong: the message is empty")
    request = RegradeRequest(submission_id=submission.id, criterion_id=criterion_id, status="open")
    session.add(request)
    session.flush()
    session.add(RegradeMessage(request_id=request.id, author_id=student.id, body=body.strip()))
    return request


def reply(
    session: Session,
    request: RegradeRequest,
    author: User,
    body: str,
    override: float | None = None,
    automatic_points: float | None = None,
    max_points: float | None = None,
) -> None:
    """A student's follow-up reopens the request; an instructor's reply answers it, and may override the points."""
    if not body.strip():
        raise RequestRefused("the message is empty")
    if override is not None:
        if author.role != "instructor":
            raise RequestRefused("only an instructor overrides points")
        if max_points is not None and not 0 <= override <= max_points:
            raise RequestRefused(f"points for {request.criterion_id} must be between 0 and {max_points:g}")
        request.override_points, request.automatic_points = override, automatic_points or 0.0
    request.status = "answered" if author.role == "instructor" else "open"
    session.add(RegradeMessage(request_id=request.id, author_id=author.id, body=body.strip(), override_points=override))


def thread(session: Session, request_id: int) -> list[RegradeMessage]:
    return list(
        session.scalars(
            select(RegradeMessage).where(RegradeMessage.request_id == request_id).order_by(RegradeMessage.id)
        )
    )


def requests_of_submission(session: Session, submission_id: int) -> list[RegradeRequest]:
    return list(
        session.scalars(
            select(RegradeRequest).where(RegradeRequest.submission_id == submission_id).order_by(RegradeRequest.id)
        )
    )


def all_requests(session: Session) -> list[RegradeRequest]:
    """Open ones first, then by age."""
    return sorted(session.scalars(select(RegradeRequest)), key=lambda r: (r.status != "open", r.id))


def overrides(session: Session, submission_id: int) -> dict[str, float]:
    """Criterion id -> the points an instructor set instead of the automatic ones."""
    return {
        request.criterion_id: request.override_points
        for request in requests_of_submission(session, submission_id)
        if request.override_points is not None
    }


def score_adjustments(session: Session, submission_ids: Collection[int] | None = None) -> dict[int, float]:
    """Submission id -> how far its overrides move its score."""
    query = select(RegradeRequest).where(RegradeRequest.override_points.is_not(None))
    if submission_ids is not None:
        query = query.where(RegradeRequest.submission_id.in_(submission_ids))
    moved: dict[int, float] = {}
    for request in session.scalars(query):
        moved[request.submission_id] = (
            moved.get(request.submission_id, 0.0) + request.override_points - (request.automatic_points or 0.0)
        )
    return moved
