"""Plagiarism review for the pages: detector runs asked for (carried out by the grading process), the cases with the
accounts they name, an instructor's decision, and the penalty a student of a confirmed case sees."""

from __future__ import annotations

from dataclasses import dataclass

from grader.db.models import User
from grader.db.plagiarism_models import PlagiarismCase, PlagiarismRun
from grader.gradebook.plagiarism_flags import student_keys
from grader.gradebook.repository import Gradebook
from grader.plagiarism.review import DECISIONS, CaseNotFound, cases, decide
from grader.plagiarism.runs import request_run, runs
from grader.services.access import Caller, InvalidInput, NotFound, require_instructor
from grader.services.context import ServiceContext


@dataclass(frozen=True)
class Penalty:
    """A confirmed case as a student of it sees it on the project page."""

    assignment_id: str
    points: float
    max_points: float
    comment: str


@dataclass(frozen=True)
class NamedCase:
    case: PlagiarismCase
    left: User | None  # the account of `case.student_a`, when one has that key
    right: User | None


@dataclass(frozen=True)
class CaseReview:
    named: NamedCase
    penalty_points: float  # what confirming costs each student
    max_points: float


def _people_by_key(gradebook: Gradebook) -> dict[str, User]:
    """How cases name students (e-mail or student number) -> the account."""
    return {key: user for user in gradebook.accounts.students() for key in student_keys(user)}


def _penalty_points(ctx: ServiceContext, assignment_id: str) -> float:
    return round(ctx.rules.plagiarism_penalty * ctx.rules.points_for(assignment_id), 2)


def penalties(ctx: ServiceContext, student_id: int, assignment_id: str) -> list[Penalty]:
    """The student's confirmed cases in the project, as they see them."""
    max_points = ctx.rules.points_for(assignment_id)
    with ctx.unit_of_work() as gradebook:
        keys = student_keys(gradebook.accounts.user(student_id))
        confirmed = cases(gradebook.session, assignment_id, "confirmed")
    return [
        Penalty(case.assignment_id, _penalty_points(ctx, assignment_id), max_points, case.comment or "")
        for case in confirmed
        if case.student_a in keys or case.student_b in keys
    ]


def review_list(ctx: ServiceContext, caller: Caller) -> tuple[list[NamedCase], list[PlagiarismRun]]:
    """Every case, highest score first, with the accounts it names; the latest detector runs."""
    require_instructor(caller)
    with ctx.unit_of_work() as gradebook:
        people = _people_by_key(gradebook)
        named = [
            NamedCase(case, people.get(case.student_a), people.get(case.student_b)) for case in cases(gradebook.session)
        ]
        return named, runs(gradebook.session)


def start_run(ctx: ServiceContext, caller: Caller, assignment_id: str) -> None:
    """Only queued: the detector loads a language model and compares every pair, work for the grading process."""
    require_instructor(caller)
    ctx.assignment(assignment_id)
    with ctx.unit_of_work() as gradebook:
        request_run(gradebook.session, assignment_id, gradebook.accounts.user(caller.id).email)


def case_review(ctx: ServiceContext, caller: Caller, case_id: int) -> CaseReview:
    require_instructor(caller)
    with ctx.unit_of_work() as gradebook:
        case = gradebook.session.get(PlagiarismCase, case_id)
        if case is None:
            raise NotFound(f"no plagiarism case {case_id}")
        people = _people_by_key(gradebook)
    return CaseReview(
        NamedCase(case, people.get(case.student_a), people.get(case.student_b)),
        _penalty_points(ctx, case.assignment_id),
        ctx.rules.points_for(case.assignment_id),
    )


def decide_case(ctx: ServiceContext, caller: Caller, case_id: int, decision: str, comment: str) -> None:
    """Confirm or dismiss, in the caller's name."""
    require_instructor(caller)
    if decision not in DECISIONS:
        raise InvalidInput(f"a decision is one of {', '.join(DECISIONS)}, not {decision!r}")
    if not comment.strip():
        raise InvalidInput("a decision needs a comment: say what you saw, for the students and the audit trail")
    with ctx.unit_of_work() as gradebook:
        try:
            by = gradebook.accounts.user(caller.id).email
            decide(gradebook.session, case_id, decision, comment.strip(), by)  # type: ignore[arg-type]
        except CaseNotFound as error:
            raise NotFound(str(error)) from error
