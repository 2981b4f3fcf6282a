"""`grader mutation-test`: grade the reference and each mutant through the batch service, then classify.

State lives in one folder (`.mutation/<id>/`): the mutants' folders and a gradebook of their own, so a rerun skips
what is graded (the batch service's resume) and the course's gradebook never sees a mutant.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import sessionmaker

from grader import course_files
from grader.batch.discover import BatchEntry
from grader.batch.service import BatchProgress, PlannedEntry, run_batch
from grader.db.base import make_engine, make_session_factory
from grader.db.migrations import upgrade_to_head
from grader.gradebook.repository import Gradebook
from grader.mutation.generate import GeneratedMutant, copy_reference, generate_mutants, sample, write_mutant
from grader.mutation.triage import Triage, load_triage
from grader.references import threads_per_grading
from grader.settings import Settings

REFERENCE_ENTRY = "reference"
TIMEOUT_FACTOR = 3  # a mutant may run this many times longer than the reference before it counts as timed out
MIN_TIMEOUT_S = 30


class MutationError(Exception):
    """The analysis cannot go on; the message says what to do."""


@dataclass(frozen=True)
class Grading:
    """The parts of one stored result that classification needs."""

    status: str
    points: dict[str, float]  # automated criterion id -> points
    passed_checks: frozenset[str]
    failed_checks: frozenset[str]
    duration_s: float
    message: str

    @classmethod
    def from_result(cls, status: str, result: dict[str, Any]) -> Grading:
        criteria = [c for c in result.get("criteria", []) if not c.get("manual")]
        checks = [check for c in criteria for check in c.get("checks", [])]
        return cls(
            status=status,
            points={c["id"]: float(c["points"]) for c in criteria},
            passed_checks=frozenset(k["id"] for k in checks if k["passed"]),
            failed_checks=frozenset(k["id"] for k in checks if not k["passed"]),
            duration_s=float(result.get("duration_s", 0.0)),
            message=str(result.get("message", "")),
        )


@dataclass(frozen=True)
class MutantOutcome:
    mutant: GeneratedMutant
    status: str  # killed | survived | timed_out | equivalent | errored
    lost_criteria: tuple[str, ...] = ()
    failed_checks: tuple[str, ...] = ()  # checks the reference passes and this mutant fails
    duration_s: float = 0.0
    triage: str | None = None  # equivalent | gap | None (not triaged)
    gap_criterion: str | None = None  # for a gap: the criterion a stronger check would make it lose
    graded: bool = True  # False: its whole file is triaged equivalent, so it was not graded
    message: str = ""


@dataclass
class MutationRun:
    assignment_id: str
    generated: int  # all first-order mutants of the reference
    sampled: int  # those analysed (all of them without --sample)
    timeout_s: int
    reference: Grading
    outcomes: list[MutantOutcome] = field(default_factory=list)


def classify(reference: Grading, mutant: Grading) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """Killed when a criterion loses points against the reference or a check the reference passes fails (a gate)."""
    lost = tuple(sorted(c for c, points in reference.points.items() if mutant.points.get(c, 0.0) < points))
    failed = tuple(sorted(reference.passed_checks - mutant.passed_checks))
    # Only the run's cap (a few times the reference's run, not the handout's limit) leaves no verdict: a probe step
    # past its own budget is one, since that budget is stated in the handout and counts CPU time, not the host's load.
    if mutant.status == "timeout":
        return "timed_out", lost, failed
    if mutant.status in ("rejected", "infra_error", "pending"):
        return "errored", lost, failed
    return ("killed" if lost or failed else "survived"), lost, failed


def state_settings(settings: Settings, state_dir: Path, workers: int) -> Settings:
    threads = settings.sandbox_threads or threads_per_grading(workers)
    return settings.model_copy(
        update={"data_dir": state_dir / "gradebook", "workers": workers, "sandbox_threads": threads}
    )


def gradings(session_factory: sessionmaker, planned: Sequence[PlannedEntry]) -> dict[str, Grading]:
    """The current result of each planned entry, by the batch's student id."""
    found = {}
    with session_factory() as session:
        gradebook = Gradebook(session)
        for item in planned:
            if item.submission_id is None:
                found[item.entry.student] = Grading("rejected", {}, frozenset(), frozenset(), 0.0, item.rejection or "")
                continue
            record = gradebook.submissions.current_record(item.submission_id)
            found[item.entry.student] = (
                Grading.from_result(record.status, record.result)
                if record is not None
                else Grading("pending", {}, frozenset(), frozenset(), 0.0, "")
            )
    return found


def written_once(target: Path, write: Callable[[Path], Path]) -> BatchEntry:
    """The batch entry of a folder written once (complete or not at all): a rerun finds it in place."""
    if not target.is_dir():
        partial = target.with_name(f".{target.name}.partial")
        shutil.rmtree(partial, ignore_errors=True)
        write(partial).rename(target)
    return BatchEntry(student=target.name, path=target, original_name=target.name)


def materialise(reference: Path, mutants: Sequence[GeneratedMutant], folder: Path) -> list[BatchEntry]:
    """The reference's folder first, then one per mutant."""
    folder.mkdir(parents=True, exist_ok=True)
    return [written_once(folder / REFERENCE_ENTRY, lambda d: copy_reference(reference, d))] + [
        written_once(folder / m.folder_name, lambda d, m=m: write_mutant(reference, m, d)) for m in mutants
    ]


def reference_timeout(settings: Settings, assignment_id: str, reference: Grading, requested: int | None) -> int:
    limit = course_files.load_assignment(settings, assignment_id).limits.time_s
    if requested is not None:
        return min(requested, limit)
    return min(limit, max(MIN_TIMEOUT_S, math.ceil(TIMEOUT_FACTOR * reference.duration_s)))


def full_marks(reference: Grading) -> bool:
    return reference.status == "graded" and not reference.failed_checks


def check_reference(reference: Grading, assignment_id: str) -> None:
    if not full_marks(reference):
        raise MutationError(
            f"the {assignment_id} reference does not get full marks ({reference.status}; failing "
            f"checks: {', '.join(sorted(reference.failed_checks)) or 'none'}; {reference.message}); "
            "graded twice; a busy machine makes the probe's step budgets fire: rerun when it is "
            f"idle, else fix the reference: grader check-references -a {assignment_id}"
        )


def grade_reference(
    settings: Settings,
    session_factory: sessionmaker,
    assignment_id: str,
    entry: BatchEntry,
    on_progress: Callable[[BatchProgress], None],
) -> Grading:
    """The reference's stored grading; one that is not full marks (a busy machine, an interrupted run) is graded again
    once before the analysis stops, so the state folder never keeps a failed reference."""
    for regrade in (False, True):
        planned = run_batch(settings, session_factory, assignment_id, [entry], entry.path, regrade, on_progress)
        reference = gradings(session_factory, planned)[REFERENCE_ENTRY]
        if full_marks(reference):
            return reference
    check_reference(reference, assignment_id)
    return reference


def run_mutation(
    settings: Settings,
    assignment_id: str,
    state_dir: Path,
    sample_size: int | None,
    workers: int,
    timeout_s: int | None,
    on_progress: Callable[[BatchProgress], None],
    retry_timeouts: bool = False,
) -> MutationRun:
    """Grade what is not graded yet (and, with `retry_timeouts`, the timed-out mutants again), then classify."""
    reference_dir = settings.references_dir / assignment_id
    triage = load_triage(reference_dir)
    generated = generate_mutants(reference_dir)
    chosen = sample(generated, sample_size)
    graded = [m for m in chosen if not triage.file_is_equivalent(m.file)]
    local = state_settings(settings, state_dir, workers)
    local.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_to_head(local.effective_database_url)
    engine = make_engine(local.effective_database_url)
    try:
        session_factory = make_session_factory(engine)
        entries = materialise(reference_dir, graded, state_dir / "mutants")
        reference = grade_reference(local, session_factory, assignment_id, entries[0], on_progress)
        timeout = reference_timeout(settings, assignment_id, reference, timeout_s)
        capped = local.model_copy(update={"run_time_cap_s": timeout})
        planned = run_batch(capped, session_factory, assignment_id, entries[1:], state_dir, False, on_progress)
        results = gradings(session_factory, planned)
        timed_out = [entry for entry in entries[1:] if classify(reference, results[entry.student])[0] == "timed_out"]
        if retry_timeouts and timed_out:
            planned = run_batch(capped, session_factory, assignment_id, timed_out, state_dir, True, on_progress)
            results.update(gradings(session_factory, planned))
    finally:
        engine.dispose()
    run = MutationRun(assignment_id, len(generated), len(chosen), timeout, reference)
    run.outcomes = [outcome(m, reference, results.get(m.folder_name), triage) for m in chosen]
    return run


def outcome(mutant: GeneratedMutant, reference: Grading, grading: Grading | None, triage: Triage) -> MutantOutcome:
    decision = triage.decision(mutant.id, mutant.file)
    if grading is None:  # its whole file is triaged equivalent: not graded
        return MutantOutcome(mutant, "equivalent", triage=decision, graded=False)
    status, lost, failed = classify(reference, grading)
    if status == "survived" and decision == "equivalent":
        status = "equivalent"
    gap = triage.gaps.get(mutant.id)
    return MutantOutcome(
        mutant, status, lost, failed, grading.duration_s, decision, gap.criterion if gap else None, grading.message
    )
