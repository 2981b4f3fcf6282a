"""Course rules are configuration: `course.yaml` at the root of the course directory; every key is optional."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from grader.settings import Settings

COURSE_RULES_FILE = "course.yaml"


class CourseRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    course_end: datetime | None = None  # the homework deadline when an assignment sets none
    counting_attempt: Literal["latest_before_deadline", "best_before_deadline"] = "latest_before_deadline"
    project_points: dict[str, float] = Field(default_factory=dict)  # assignment id -> its weight in the course total
    default_project_points: float = 20.0
    final_project: str | None = None  # its score is the defense (examiners enter it as manual criteria); not homework
    defense_points: float = 20.0  # without a final_project: a course-level defense score entered by hand
    pass_threshold: float = 80.0
    retake_homework_min: float = 70.0
    retake_questions_required: int = 2
    plagiarism_penalty: float = Field(default=1.0, ge=0.0, le=1.0)  # share of the project's points lost by both students

    def points_for(self, assignment_id: str) -> float:
        return self.project_points.get(assignment_id, self.default_project_points)


def load_course_rules(settings: Settings) -> CourseRules:
    path = settings.course_dir / COURSE_RULES_FILE
    if not path.is_file():
        return CourseRules()
    return CourseRules.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
