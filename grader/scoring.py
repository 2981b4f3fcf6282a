"""Rubric × check outcomes → per-criterion points and student-safe feedback. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from grader.domain.ledger import requirement_number
from grader.domain.result import CheckResult, CriterionResult
from grader.domain.rubric import Criterion, Rubric
from grader.judge import CheckOutcome
from grader.redaction import Redactor

MANUAL_PENDING = "Scored by an instructor (not graded automatically yet)."


@dataclass(frozen=True)
class Stated:
    """Where a failure reason was first written out: one crash behind several criteria is quoted once."""

    title: str
    visibility: str


def score_criterion(
    criterion: Criterion,
    outcomes: dict[str, CheckOutcome],
    redactor: Redactor,
    check_requirements: Mapping[str, tuple[str, ...]] | None = None,
    stated: dict[str, Stated] | None = None,
) -> CriterionResult:
    if criterion.manual:
        return CriterionResult(
            id=criterion.id,
            title=criterion.title,
            points=0.0,
            max_points=criterion.points,
            feedback=MANUAL_PENDING,
            manual=True,
            visibility=criterion.visibility,
        )
    results = [
        outcomes.get(check_id, CheckOutcome(check_id, False, detail="check not defined by the judge"))
        for check_id in criterion.checks
    ]
    passed = sum(result.passed for result in results)
    if criterion.scoring == "proportional":
        points = criterion.points * passed / len(results)
    else:
        points = criterion.points if passed == len(results) else 0.0
    missed = _requirements_missed(results, check_requirements or {})
    feedback = _feedback(criterion, results, passed, redactor, {} if stated is None else stated)
    if missed:
        feedback += f"\nRequirements of the handout not met: {', '.join(missed)}."
    return CriterionResult(
        id=criterion.id,
        title=criterion.title,
        points=round(points, 2),
        max_points=criterion.points,
        feedback=feedback,
        visibility=criterion.visibility,
        requirements=missed,
        checks=[CheckResult(id=r.check_id, passed=r.passed) for r in results],
    )


def _requirements_missed(results: list[CheckOutcome], check_requirements: Mapping[str, tuple[str, ...]]) -> list[str]:
    """The handout's numbered requirements behind the failed checks, in handout order."""
    missed = {
        requirement
        for result in results
        if not result.passed
        for requirement in check_requirements.get(result.check_id, ())
    }
    return sorted(missed, key=requirement_number)


def _feedback(
    criterion: Criterion, results: list[CheckOutcome], passed: int, redactor: Redactor, stated: dict[str, Stated]
) -> str:
    if passed == len(results):
        notes = [f"- {redactor.redact(r.student_message)}" for r in results if r.student_message]
        return "\n".join([criterion.feedback.passed or "All checks passed.", *notes])
    base = criterion.feedback.partial if passed and criterion.feedback.partial else criterion.feedback.failed
    reasons = []
    for result in results:
        if not result.passed and result.student_message and result.student_message not in reasons:
            reasons.append(result.student_message)
    lines = [base or "Some checks failed."]
    if criterion.scoring == "proportional" or len(results) > 1:
        lines.append(f"({passed} of {len(results)} checks passed.)")
    lines += [f"- {_reason_once(reason, criterion, redactor, stated)}" for reason in reasons[:3]]
    return "\n".join(lines)


def _reason_once(reason: str, criterion: Criterion, redactor: Redactor, stated: dict[str, Stated]) -> str:
    """The reason, or a pointer to the criterion that already states it where the student sees that one too."""
    earlier = stated.get(reason)
    if earlier is not None and earlier.visibility in ("always", criterion.visibility):
        return f'the same error as under "{earlier.title}" (above)'
    if earlier is None or criterion.visibility == "always":
        stated[reason] = Stated(criterion.title, criterion.visibility)
    return redactor.redact(reason)


def score(rubric: Rubric, outcomes: dict[str, CheckOutcome], redactor: Redactor) -> list[CriterionResult]:
    stated: dict[str, Stated] = {}
    return [
        score_criterion(criterion, outcomes, redactor, rubric.check_requirements, stated)
        for criterion in rubric.criteria
    ]
