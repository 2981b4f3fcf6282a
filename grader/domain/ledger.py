"""The requirements ledger of an assignment (`assignments/<id>/requirements.yaml`).

Each requirement the handout numbers (R1, R2, ...) maps to the hidden checks that test it, each check to the mutants
of the reference that prove it can fail, or to the manual rubric criteria that score it; and to the judge's numeric
bars it is held to, each with its value and either the handout's words that state it or why it stays hidden; and the
handout's words that state each of the assignment's step budgets (`limits.budgets_s`).
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

REQUIREMENT_ID = re.compile(r"^R[1-9][0-9]*$")


class Bar(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: float
    stated: str = ""  # words of the handout that state the bar (they must contain its value)
    hidden: str = ""  # why the handout does not state it (e.g. a numerical tolerance)


class Budget(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    stated: str  # words of the handout that state the budget (they must contain its seconds)
    gpu_stated: str = ""  # the same for its limits.gpu.budgets_s value, when a GPU run has its own


class Requirement(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    summary: str
    checks: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # check id -> mutants that fail it
    manual: tuple[str, ...] = ()  # manual rubric criteria that score it
    bars: tuple[str, ...] = ()  # names of judge constants it is held to


class Ledger(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    assignment: str
    requirements: dict[str, Requirement]
    bars: dict[str, Bar] = Field(default_factory=dict)
    budgets: dict[str, Budget] = Field(default_factory=dict)  # limits.budgets_s name -> the handout's words

    def check_requirements(self) -> dict[str, tuple[str, ...]]:
        """check id -> the requirements it tests, in handout order."""
        found: dict[str, list[str]] = {}
        for requirement_id, requirement in self.requirements.items():
            for check_id in requirement.checks:
                found.setdefault(check_id, []).append(requirement_id)
        return {check_id: tuple(sorted(ids, key=requirement_number)) for check_id, ids in found.items()}

    def mutant_checks(self) -> dict[str, set[str]]:
        """mutant name -> the checks the ledger says it makes fail."""
        found: dict[str, set[str]] = {}
        for requirement in self.requirements.values():
            for check_id, mutants in requirement.checks.items():
                for mutant in mutants:
                    found.setdefault(mutant, set()).add(check_id)
        return found


def requirement_number(requirement_id: str) -> int:
    return int(requirement_id[1:]) if REQUIREMENT_ID.match(requirement_id) else 0
