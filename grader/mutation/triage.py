"""`reference_solutions/<id>/mutation.yaml`: what the instructors decided about each surviving mutant.

equivalent_files:            # files the grading never imports: every mutant there is equivalent, none is graded
  train_captioner.py: "offline training script; the graded code loads the shipped weights"
equivalent:                  # one line each, a true reason why the mutant behaves like the reference
  "agents.py:12:string:1": "the log label is never compared"
gaps:                        # real departures from the handout that no check catches yet
  "tools.py:30:number:1": {criterion: tool_errors, requirement: "R7 a failing tool is reported", note: "..."}
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

TRIAGE_FILE = "mutation.yaml"


class Gap(BaseModel):
    model_config = ConfigDict(extra="forbid")

    criterion: str  # the rubric criterion whose checks should catch it
    requirement: str  # the handout requirement a new or stronger check would test
    note: str = ""


class Triage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    equivalent_files: dict[str, str] = Field(default_factory=dict)
    equivalent: dict[str, str] = Field(default_factory=dict)
    gaps: dict[str, Gap] = Field(default_factory=dict)

    def file_is_equivalent(self, file: str) -> bool:
        return file in self.equivalent_files

    def is_equivalent(self, mutant_id: str, file: str) -> bool:
        return mutant_id in self.equivalent or self.file_is_equivalent(file)

    def decision(self, mutant_id: str, file: str) -> str | None:
        """'equivalent', 'gap', or None when the mutant is not triaged."""
        if self.is_equivalent(mutant_id, file):
            return "equivalent"
        return "gap" if mutant_id in self.gaps else None


class TriageError(Exception):
    """The triage file cannot be read; the message says where."""


def load_triage(reference: Path) -> Triage:
    path = reference / TRIAGE_FILE
    if not path.is_file():
        return Triage()
    try:
        triage = Triage.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except (yaml.YAMLError, ValidationError) as error:
        raise TriageError(f"{path}: {error}") from error
    long_reasons = [
        key
        for key, reason in {**triage.equivalent, **triage.equivalent_files}.items()
        if not reason.strip() or "\n" in reason.strip()
    ]
    if long_reasons:
        raise TriageError(f"{path}: each equivalence reason is one non-empty line; fix: {', '.join(long_reasons)}")
    return triage
