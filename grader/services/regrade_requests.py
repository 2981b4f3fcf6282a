"""Regrade requests: a student asks about one criterion of a result they can see, the thread is shared with the
instructors, and an instructor's answer may override the criterion's points. Whoever may see the submission may
read and answer its threads; someone else's request is not found."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from grader.db.request_models import RegradeRequest
from grader.gradebook import regrade_requests
from grader.gradebook.regrade_requests import RequestRefused
from grader.gradebook.repository import Gradebook
from grader.services.access import Caller, InvalidInput, NotFound, require_instructor
from grader.services.context import ServiceContext
from grader.services.submissions import SubmissionPage, submission_page


class ThreadMessage(NamedTuple):  # a tuple: the page unpacks it
    author: str
    role: str
    at: datetime
    body: str
    override_points: float | None


@dataclass(frozen=True)
class RequestThread:
    request: RegradeRequest
    messages: list[ThreadMessage]
    page: SubmissionPage  # the submission as the caller may see it
    max_points: float | None  # the criterion's, when the caller can see it
    automatic_points: float | None  # the grader's points for the criterion, before any override


def askable_criteria(page: SubmissionPage) -> dict[str, float]:
    """What may be asked about: the criteria of the result the viewer can see (id -> max points)."""
    if page.result is None:
        return {}
    return {c.id: c.max_points for c in page.result.criteria if not c.hidden}


def _automatic_points(gradebook: Gradebook, submission_id: int, criterion_id: str) -> float | None:
    record = gradebook.submissions.current_record(submission_id)
    criteria = record.result.get("criteria", []) if record else []
    return next((c["points"] for c in criteria if c["id"] == criterion_id), None)


def _page_of_request(ctx: ServiceContext, caller: Caller, request_id: int) -> SubmissionPage:
    with ctx.unit_of_work() as gradebook:
        request = gradebook.session.get(RegradeRequest, request_id)
        if request is None:
            raise NotFound("no such regrade request")
        submission_id = request.submission_id
    return submission_page(ctx, caller, submission_id)


def requests_on(ctx: ServiceContext, page: SubmissionPage) -> list[RegradeRequest]:
    """The threads of a submission page (whoever got the page may see them)."""
    with ctx.unit_of_work() as gradebook:
        requests = regrade_requests.requests_of_submission(gradebook.session, page.submission.id)
        gradebook.session.expunge_all()
        return requests


def ask(ctx: ServiceContext, caller: Caller, submission_id: int, criterion_id: str, message: str) -> int:
    """Opens a request on the caller's own submission; returns its id."""
    page = submission_page(ctx, caller, submission_id)
    if page.submission.user_id != caller.id:
        raise InvalidInput("only the student who submitted asks for a review; answer in an existing thread instead")
    with ctx.unit_of_work() as gradebook:
        try:
            request = regrade_requests.open_request(
                gradebook.session,
                gradebook.submissions.submission(submission_id),
                criterion_id,
                askable_criteria(page),
                gradebook.accounts.user(caller.id),
                message,
            )
        except RequestRefused as error:
            raise InvalidInput(str(error)) from error
        return request.id


def request_thread(ctx: ServiceContext, caller: Caller, request_id: int) -> RequestThread:
    page = _page_of_request(ctx, caller, request_id)
    with ctx.unit_of_work() as gradebook:
        request = gradebook.session.get(RegradeRequest, request_id)
        messages = [
            ThreadMessage(m.author.name, m.author.role, m.at, m.body, m.override_points)
            for m in regrade_requests.thread(gradebook.session, request_id)
        ]
        automatic = _automatic_points(gradebook, page.submission.id, request.criterion_id)
    return RequestThread(request, messages, page, askable_criteria(page).get(request.criterion_id), automatic)


def answer(ctx: ServiceContext, caller: Caller, request_id: int, message: str, override: float | None) -> None:
    """A reply in the thread; an instructor's `override` replaces the criterion's points."""
    page = _page_of_request(ctx, caller, request_id)
    with ctx.unit_of_work() as gradebook:
        request = gradebook.session.get(RegradeRequest, request_id)
        criterion = request.criterion_id
        try:
            regrade_requests.reply(
                gradebook.session,
                request,
                gradebook.accounts.user(caller.id),
                message,
                override,
                _automatic_points(gradebook, page.submission.id, criterion),
                askable_criteria(page).get(criterion),
            )
        except RequestRefused as error:
            raise InvalidInput(str(error)) from error


def all_requests(ctx: ServiceContext, caller: Caller) -> list[tuple[RegradeRequest, str, str]]:
    """Every request, with its student's name and its assignment."""
    require_instructor(caller)
    with ctx.unit_of_work() as gradebook:
        return [
            (r, r.submission.user.name, r.submission.assignment_id)
            for r in regrade_requests.all_requests(gradebook.session)
        ]
