"""Course rules are configuration: `course.yaml` at the root of the course directory; every key is optional.
The dates a project has for one student (due date, course end, when hidden criteria appear) and how an attempt
counts under the late policy are decided here, from the rules alone: no I/O but `load_course_rules`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from grader.domain.assignment import Assignment
from grader.settings import Settings

COURSE_RULES_FILE = "course.yaml"


class CourseRulesError(Exception):
    """course.yaml, or an assignment's dates, do not fit together; the message says what to change."""


class LatePolicy(BaseModel):
    """What work handed in after a project's due date gets. Work after the course end never counts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    after_due_date: Literal["counts", "penalty_per_day", "not_counted"] = "counts"
    penalty_per_day: float = Field(0.0, ge=0.0, le=1.0)  # share of the project's points lost per day (begun) late

    @model_validator(mode="after")
    def _penalty_is_set(self) -> LatePolicy:
        if self.after_due_date == "penalty_per_day" and self.penalty_per_day == 0:
            raise ValueError(
                "late_policy penalty_per_day needs penalty_per_day: the share of the project's points "
                "lost per day begun late, e.g. 0.1"
            )
        return self


class CourseRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    course_end: datetime | None = None  # the last moment homework counts; the due date where a project has none
    calendar: dict[int, datetime] = Field(default_factory=dict)  # lesson number -> when it starts
    late_policy: LatePolicy = LatePolicy()
    counting_attempt: Literal["latest_before_deadline", "best_before_deadline"] = "latest_before_deadline"
    project_points: dict[str, float] = Field(default_factory=dict)  # assignment id -> its weight in the course total
    default_project_points: float = 20.0
    final_project: str | None = None  # its score is the defense (examiners enter it as manual criteria); not homework
    defense_points: float = 20.0  # without a final_project: a course-level defense score entered by hand
    pass_threshold: float = 80.0
    retake_homework_min: float = 70.0
    retake_questions_required: int = 2
    plagiarism_penalty: float = Field(
        default=1.0, ge=0.0, le=1.0
    )  # share of the project's points lost by both students

    @field_validator("course_end")
    @classmethod
    def _aware_end(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("course_end needs a UTC offset, e.g. 2027-05-31T23:59:00+00:00")
        return value

    @field_validator("calendar")
    @classmethod
    def _aware_lessons(cls, value: dict[int, datetime]) -> dict[int, datetime]:
        naive = sorted(lesson for lesson, when in value.items() if when.tzinfo is None)
        if naive:
            raise ValueError(f"calendar lessons {naive} need a UTC offset, e.g. 2027-03-22T10:00:00+00:00")
        return value

    def points_for(self, assignment_id: str) -> float:
        return self.project_points.get(assignment_id, self.default_project_points)

    def due_date(self, assignment: Assignment) -> datetime | None:
        """The assignment's own `deadline`, else the calendar date of its `deadline_lesson`, else the course end."""
        if assignment.deadline is not None:
            return assignment.deadline
        if assignment.deadline_lesson is None or not self.calendar:
            return self.course_end
        if assignment.deadline_lesson not in self.calendar:
            raise CourseRulesError(
                f"{assignment.id} is due at lesson {assignment.deadline_lesson}, which the calendar in course.yaml "
                f"does not list (it lists lessons {', '.join(map(str, sorted(self.calendar)))}): add the lesson's "
                "date to the calendar or change deadline_lesson in its assignment.yaml"
            )
        return self.calendar[assignment.deadline_lesson]

    def project_dates(self, assignment: Assignment, extension_days: int = 0) -> ProjectDates:
        """One student's dates for one project: an extension moves each of them by its days."""
        shift = timedelta(days=extension_days)
        due = self.due_date(assignment)
        end = self.course_end if self.course_end is not None else due
        if due is not None and end is not None and end < due:
            end = due  # a project due after the course end is still taken until it is due
        moved_due = due + shift if due else None
        moved_end = end + shift if end else None
        reveal = moved_due if assignment.hidden_criteria_shown == "after_due_date" else moved_end
        return ProjectDates(moved_due, moved_end, reveal, extension_days)


@dataclass(frozen=True)
class ProjectDates:
    due: datetime | None
    course_end: datetime | None
    hidden_shown_from: datetime | None  # criteria with visibility after_deadline appear from then on
    extension_days: int = 0


LateState = Literal["on_time", "late", "late_penalty", "late_not_counted", "after_course_end"]


@dataclass(frozen=True)
class Lateness:
    """How an attempt handed in at one moment counts."""

    state: LateState
    days_late: int = 0  # days begun after the due date
    penalty_share: float = 0.0  # of the project's points

    @property
    def counts(self) -> bool:
        return self.state in ("on_time", "late", "late_penalty")

    @property
    def after_due_date(self) -> bool:
        return self.state != "on_time"

    @property
    def label(self) -> str:
        """A few words for a table cell."""
        return {
            "on_time": "",
            "late": "after the due date",
            "late_penalty": f"after the due date, −{self.penalty_share:.0%}",
            "late_not_counted": "after the due date: does not count",
            "after_course_end": "after the course end: does not count",
        }[self.state]

    def describe(self) -> str:
        """One sentence for the upload form and the result page."""
        days = f"{self.days_late} day{'s' if self.days_late != 1 else ''}"
        return {
            "on_time": "Handed in by the due date: it counts under the course rules.",
            "late": f'Handed in after the due date ({days} late): it counts, marked "after the due date".',
            "late_penalty": f"Handed in after the due date ({days} late): it counts, less {self.penalty_share:.0%} "
            "of the project's points.",
            "late_not_counted": "Handed in after the due date: under the course's late policy it does not count.",
            "after_course_end": "Handed in after the course end: it does not count.",
        }[self.state]


def lateness(submitted_at: datetime, dates: ProjectDates, rules: CourseRules) -> Lateness:
    if dates.due is None or submitted_at <= dates.due:
        return Lateness("on_time")
    days = math.ceil((submitted_at - dates.due) / timedelta(days=1))
    if dates.course_end is not None and submitted_at > dates.course_end:
        return Lateness("after_course_end", days)
    policy = rules.late_policy
    if policy.after_due_date == "not_counted":
        return Lateness("late_not_counted", days)
    if policy.after_due_date == "penalty_per_day":
        return Lateness("late_penalty", days, min(1.0, days * policy.penalty_per_day))
    return Lateness("late", days)


def load_course_rules(settings: Settings) -> CourseRules:
    path = settings.course_dir / COURSE_RULES_FILE
    if not path.is_file():
        return CourseRules()
    try:
        return CourseRules.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in error.errors())
        raise CourseRulesError(f"{path}: {problems}") from error
