"""Run an assignment's real hidden probe over a submission in the local sandbox, as a grading would."""

from __future__ import annotations

from pathlib import Path

import yaml

from grader.domain.assignment import Limits
from grader.judge import ProbeData
from grader.sandbox.base import RunSpec
from grader.sandbox.local_backend import LocalBackend

ASSIGNMENTS = Path(__file__).resolve().parents[2] / "assignments"


def assignment_limits(assignment_id: str) -> Limits:
    config = yaml.safe_load((ASSIGNMENTS / assignment_id / "assignment.yaml").read_text(encoding="utf-8"))
    return Limits(**config["limits"])


def run_hidden_probe(
    assignment_id: str, submission: Path, seed: int = 1234, budgets_s: dict[str, float] | None = None
) -> ProbeData:
    """`budgets_s` replaces some of assignment.yaml's step budgets (a test shortens a step it makes time out)."""
    limits = assignment_limits(assignment_id)
    if budgets_s:
        limits = limits.model_copy(update={"budgets_s": {**limits.budgets_s, **budgets_s}})
    spec = RunSpec(
        submission_tree=submission,
        entry="solution.py",
        entry_kind="module",
        probe_dir=ASSIGNMENTS / assignment_id / "hidden_tests" / "probe",
        limits=limits,
        seed=seed,
    )
    outcome = LocalBackend(use_bwrap=False).run(spec)
    assert outcome.status == "completed", outcome.stderr[-3000:]
    return ProbeData.from_files(outcome.files)
