"""Pure gradebook arithmetic: which attempt counts, project points, totals, pass and retake eligibility."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from grader.domain.rubric import RUBRIC_TOTAL
from grader.gradebook.rules import CourseRules, Lateness, ProjectDates, lateness

NOT_AN_ATTEMPT = "infra_error"  # the grader failed, not the student


@dataclass(frozen=True)
class Attempt:
    submission_id: int
    submitted_at: datetime
    status: str | None  # None while queued or running
    score: float | None
    max_score: float | None

    @property
    def graded(self) -> bool:
        return self.status is not None


@dataclass(frozen=True)
class ProjectScore:
    assignment_id: str
    points: float | None  # None: the counting attempt is still being graded
    max_points: float
    counting_submission_id: int | None
    penalized: bool
    late: Lateness | None = None  # of the counting attempt


@dataclass(frozen=True)
class Standing:
    projects: tuple[ProjectScore, ...]
    homework: float
    defense: float | None
    total: float
    passed: bool
    retake_eligible: bool


def _share(attempt: Attempt, late: Lateness) -> float:
    """The attempt's rubric score as a share of its maximum, after any late penalty: what `best` compares."""
    return (attempt.score or 0.0) / (attempt.max_score or RUBRIC_TOTAL) - late.penalty_share


def counting_attempt(attempts: Sequence[Attempt], dates: ProjectDates, rules: CourseRules) -> Attempt | None:
    eligible = [
        attempt
        for attempt in attempts
        if attempt.status != NOT_AN_ATTEMPT and lateness(attempt.submitted_at, dates, rules).counts
    ]
    if not eligible:
        return None
    latest = max(eligible, key=lambda attempt: (attempt.submitted_at, attempt.submission_id))
    if rules.counting_attempt == "latest_before_deadline":
        return latest
    graded = [attempt for attempt in eligible if attempt.graded]
    if not graded:
        return latest
    return max(
        graded,
        key=lambda attempt: (_share(attempt, lateness(attempt.submitted_at, dates, rules)), attempt.submitted_at),
    )


def project_score(
    assignment_id: str,
    counting: Attempt | None,
    manual_points: float,
    penalized: bool,
    rules: CourseRules,
    late: Lateness | None = None,
) -> ProjectScore:
    """Scale the counting attempt's rubric score (automated + manual criteria) to the project's course weight.
    Manual points count with or without an attempt: a student examined at the defense without a counting upload
    gets them, and the automated criteria score nothing."""
    max_points = rules.points_for(assignment_id)
    if counting is not None and not counting.graded:
        return ProjectScore(assignment_id, None, max_points, counting.submission_id, penalized, late)
    automated = (counting.score or 0.0) if counting is not None else 0.0
    rubric_max = counting.max_score if counting is not None and counting.max_score else RUBRIC_TOTAL
    rubric_points = min(automated + manual_points, rubric_max)
    points = rubric_points / rubric_max * max_points
    if late is not None:
        points -= late.penalty_share * max_points
    if penalized:
        points -= rules.plagiarism_penalty * max_points
    return ProjectScore(
        assignment_id,
        round(max(0.0, points), 2),
        max_points,
        counting.submission_id if counting else None,
        penalized,
        late,
    )


def standing(
    projects: Sequence[ProjectScore], manual_defense: float | None, questions_answered: int, rules: CourseRules
) -> Standing:
    """Homework is every project but the final one; the defense is the final project's score when the course has
    one, else the course-level defense entered by hand."""
    homework = round(sum(p.points or 0.0 for p in projects if p.assignment_id != rules.final_project), 2)
    if rules.final_project is None:
        defense = None if manual_defense is None else min(manual_defense, rules.defense_points)
    else:
        defense = next((p.points for p in projects if p.assignment_id == rules.final_project), None)
    total = round(homework + (defense or 0.0), 2)
    passed = total >= rules.pass_threshold
    retake_eligible = (
        not passed and homework >= rules.retake_homework_min and questions_answered >= rules.retake_questions_required
    )
    return Standing(tuple(projects), homework, defense, total, passed, retake_eligible)
