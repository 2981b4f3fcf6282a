"""check-references: references and independent alternatives earn full automated marks, starters stay low, every
mutant is caught.

A mutant is a YAML file of edits on the reference (no copied code), declaring the rubric criteria it must lose
points on (`loses`) or, for 0-point gate criteria, the checks that must fail (`fails_checks`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from grader import course_files
from grader.pipeline import Grader, Verdict
from grader.settings import Settings

# The grading seeds every independent alternative is graded with: a correct design must earn full marks on each of
# them, not on one lucky seed. The reference, starter and mutants run once, on the settings' grading seed.
ALTERNATIVE_GRADING_SEEDS = (1, 2, 3)


class Edit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file: str
    old: str
    new: str


class Mutant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str
    loses: list[str] = Field(default_factory=list)
    fails_checks: list[str] = Field(default_factory=list)
    edits: list[Edit] = Field(default_factory=list)
    delete: list[str] = Field(default_factory=list)


class MutantError(Exception):
    """A mutant file does not apply to the reference."""


def load_mutant(path: Path) -> Mutant:
    mutant = Mutant.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    if not (mutant.loses or mutant.fails_checks):
        raise MutantError(f"{path}: declare 'loses' (criterion ids) or 'fails_checks' (check ids)")
    return mutant


def apply_mutant(reference: Path, mutant: Mutant, destination: Path, name: str) -> Path:
    """Copy the reference (without its mutants/) and apply the edits; each `old` must occur exactly once."""
    shutil.copytree(reference, destination, ignore=shutil.ignore_patterns("mutants", "alternatives", "__pycache__"))
    for edit in mutant.edits:
        target = destination / edit.file
        if not target.is_file():
            raise MutantError(f"mutant {name}: {edit.file} is not in the reference")
        text = target.read_text(encoding="utf-8")
        count = text.count(edit.old)
        if count != 1:
            raise MutantError(
                f"mutant {name}: the text to replace occurs {count} times in {edit.file} (needs 1): {edit.old[:80]!r}"
            )
        target.write_text(text.replace(edit.old, edit.new), encoding="utf-8")
    for relative in mutant.delete:
        target = destination / relative
        if not target.exists():
            raise MutantError(f"mutant {name}: {relative} is not in the reference")
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    return destination


@dataclass(frozen=True)
class Case:
    assignment_id: str
    name: str  # reference | starter | mutant:<name> | alternative:<name>@seed<n>
    source: Path
    expectation: Callable[[Verdict], str | None]  # None when met, else what went wrong
    seed: int | None = None  # the grading seed; None: the settings' grading_seed


@dataclass(frozen=True)
class CaseResult:
    case: Case
    problem: str | None
    score: float
    status: str
    duration_s: float

    @property
    def ok(self) -> bool:
        return self.problem is None


def _expect_full_marks(verdict: Verdict) -> str | None:
    result = verdict.result
    failed = [check for check, outcome in verdict.check_outcomes.items() if not outcome.passed]
    if result.status != "graded" or result.score < result.automated_max_score or failed:
        return (
            f"expected full automated marks ({result.automated_max_score:g}), got {result.score:g} "
            f"[{result.status}: {result.message}]; failing checks: {', '.join(failed) or 'none'}"
        )
    return None


def _expect_at_most(limit: float) -> Callable[[Verdict], str | None]:
    def expectation(verdict: Verdict) -> str | None:
        if verdict.result.status in ("rejected", "infra_error"):
            return f"starter was not graded: {verdict.result.status}: {verdict.result.message}"
        if verdict.result.score > limit:
            return f"starter scored {verdict.result.score:g}, above the rubric's floor {limit:g}"
        return None

    return expectation


def _expect_caught(mutant: Mutant, ledger_checks: set[str]) -> Callable[[Verdict], str | None]:
    """The mutant loses its criteria, fails its checks, and fails every check the ledger says it proves."""

    def expectation(verdict: Verdict) -> str | None:
        if verdict.result.status in ("rejected", "infra_error"):
            return f"mutant was not graded: {verdict.result.status}: {verdict.result.message}"
        by_id = {criterion.id: criterion for criterion in verdict.result.criteria}
        missed = [c for c in mutant.loses if c not in by_id or by_id[c].points >= by_id[c].max_points]
        survived = [
            c
            for c in sorted(set(mutant.fails_checks) | ledger_checks)
            if verdict.check_outcomes.get(c) is None or verdict.check_outcomes[c].passed
        ]
        if missed or survived:
            return "not caught: " + "; ".join(
                [f"criterion '{c}' kept full points" for c in missed] + [f"check '{c}' passed" for c in survived]
            )
        return None

    return expectation


def reference_cases(settings: Settings, assignment_id: str, scratch: Path) -> list[Case]:
    rubric = course_files.load_rubric(settings, assignment_id)
    paths = course_files.assignment_paths(settings, assignment_id)
    reference = settings.references_dir / assignment_id
    ledger = course_files.load_ledger(settings, assignment_id)
    proves = ledger.mutant_checks() if ledger else {}  # the checks the ledger says each mutant makes fail
    cases = [
        Case(assignment_id, "reference", reference, _expect_full_marks),
        Case(assignment_id, "starter", paths.starter, _expect_at_most(rubric.starter_max_points)),
    ]
    for mutant_file in sorted((reference / "mutants").glob("*.yaml")):
        name = mutant_file.stem
        mutant = load_mutant(mutant_file)
        source = apply_mutant(reference, mutant, scratch / assignment_id / name, name)
        cases.append(Case(assignment_id, f"mutant:{name}", source, _expect_caught(mutant, proves.get(name, set()))))
    # Independent correct solutions with other designs the handout allows: each must earn full marks on every seed.
    alternatives = reference / "alternatives"
    for folder in sorted(alternatives.iterdir()) if alternatives.is_dir() else []:
        if folder.is_dir():
            cases.extend(
                Case(assignment_id, f"alternative:{folder.name}@seed{seed}", folder, _expect_full_marks, seed)
                for seed in ALTERNATIVE_GRADING_SEEDS
            )
    return cases


def graders_by_seed(grader: Grader, cases: list[Case]) -> dict[int | None, Grader]:
    """One grader per grading seed the cases ask for, all on the same sandbox backend (built before the gradings
    start, so the worker threads share them without racing to create one)."""
    graders: dict[int | None, Grader] = {None: grader}
    for seed in sorted({case.seed for case in cases if case.seed is not None}):
        graders[seed] = Grader(grader.settings.model_copy(update={"grading_seed": seed}), grader.backend)
    return graders


def parallel_gradings(jobs: int) -> int:
    """`jobs` gradings at once; 0: one per core."""
    return jobs or os.cpu_count() or 1


def threads_per_grading(parallel: int) -> int:
    """The host's cores shared among `parallel` gradings at once, at least one thread each."""
    return max(1, (os.cpu_count() or 1) // parallel)


def reference_settings(settings: Settings, device: Literal["cpu", "cuda"] | None, parallel: int) -> Settings:
    """What every case is graded with: on `device` when one is named (else as each assignment asks and the host
    allows), and with the threads of one of `parallel` gradings unless the settings fix them."""
    if device:
        settings = settings.model_copy(update={"sandbox_device": device})
    if settings.sandbox_threads is None:
        settings = settings.model_copy(update={"sandbox_threads": threads_per_grading(parallel)})
    return settings


@dataclass
class ReferenceRun:
    results: list[CaseResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)


def check_references(
    settings: Settings,
    grader: Grader,
    assignment_ids: list[str],
    jobs: int,
    on_result: Callable[[CaseResult], None] | None = None,
    on_cases: Callable[[int], None] | None = None,
) -> ReferenceRun:
    run = ReferenceRun()
    with tempfile.TemporaryDirectory(prefix="grader-references-") as scratch:
        cases = [
            case for assignment_id in assignment_ids for case in reference_cases(settings, assignment_id, Path(scratch))
        ]
        if on_cases:
            on_cases(len(cases))
        graders = graders_by_seed(grader, cases)
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {
                pool.submit(graders[case.seed].grade_path, case.source, case.assignment_id): case for case in cases
            }
            for future in as_completed(futures):
                case = futures[future]
                verdict = future.result()
                result = CaseResult(
                    case,
                    case.expectation(verdict),
                    verdict.result.score,
                    verdict.result.status,
                    verdict.result.duration_s,
                )
                run.results.append(result)
                if on_result:
                    on_result(result)
    return run
