"""A 20-point rubric: criteria tied to judge checks, or entered by hand. Scoring is pure: outcomes in, points out."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

RUBRIC_TOTAL = 20


class Feedback(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    passed: str = Field("", alias="pass")
    failed: str = Field("", alias="fail")
    partial: str = ""


class Criterion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    points: float = Field(ge=0)
    checks: tuple[str, ...] = ()
    scoring: Literal["all_or_nothing", "proportional"] = "all_or_nothing"
    manual: bool = False
    feedback: Feedback = Feedback()
    visibility: Literal["always", "after_deadline"] = "always"

    @model_validator(mode="after")
    def _automated_or_manual(self) -> "Criterion":
        if self.manual and self.checks:
            raise ValueError(f"criterion '{self.id}' is manual but lists checks")
        if not self.manual and not self.checks:
            raise ValueError(f"criterion '{self.id}' needs checks, or 'manual: true'")
        return self


class Rubric(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    assignment: str
    criteria: tuple[Criterion, ...]
    starter_max_points: float = 0.0
    version: str = ""  # content hash, filled by the loader
    check_requirements: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # from the ledger, by the loader

    @model_validator(mode="after")
    def _consistent(self) -> "Rubric":
        total = sum(criterion.points for criterion in self.criteria)
        if abs(total - RUBRIC_TOTAL) > 1e-9:
            raise ValueError(f"criteria points sum to {total:g}, not {RUBRIC_TOTAL}")
        ids = [criterion.id for criterion in self.criteria]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"criterion ids used twice: {', '.join(duplicates)}")
        return self

    @property
    def automated_points(self) -> float:
        return sum(c.points for c in self.criteria if not c.manual)

    @property
    def check_ids(self) -> set[str]:
        return {check for criterion in self.criteria for check in criterion.checks}

    def criterion(self, criterion_id: str) -> Criterion:
        for criterion in self.criteria:
            if criterion.id == criterion_id:
                return criterion
        raise KeyError(criterion_id)
