"""Run an assignment's real hidden probe over a submission in the local sandbox, as a grading would."""

from __future__ import annotations

from pathlib import Path

import yaml

from grader.domain.assignment import Limits
from grader.judge import ProbeData
from grader.sandbox.base import RunSpec
from grader.sandbox.local_backend import LocalBackend

ASSIGNMENTS = Path(__file__).resolve().parents[2] / "assignments"

# Appended to p2's solution.py: the reference trained for a few seconds (64 texts, a ten times larger encoder learning
# rate). The rate is scaled, not set, so fine_tune at learning_rate 0 still leaves the encoder as loaded (R2).
P2_QUICK_FINE_TUNE = """

import dataclasses as _dataclasses

from train import fine_tune as _fine_tune


def fine_tune(texts, labels, config):
    return _fine_tune(texts[:64], labels[:64], _dataclasses.replace(config, learning_rate=config.learning_rate * 10))
"""


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
