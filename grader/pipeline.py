"""The grading service: intake → store → sandbox run → judge → rubric score, with infra retries.

The judge runs here, in the grader's process, which never imports or runs student code: it reads only the plain data
the sandboxed run sent back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from grader import course_files, intake, store
from grader.domain.assignment import Assignment, Limits
from grader.domain.result import STATUS_MEANING, GradeResult, Logs, NotebookCell, SandboxInfo
from grader.domain.rubric import Rubric
from grader.judge import CheckOutcome, Judge, ProbeData, format_step_error, load_judge, read_json
from grader.redaction import Redactor
from grader.sandbox.base import RunOutcome, RunSpec, SandboxBackend, SandboxError
from grader.sandbox.gpu import GpuUnavailable
from grader.scoring import score
from grader.settings import Settings
from grader.store import StoredSubmission

if TYPE_CHECKING:  # the gradebook sits above the pipeline: only its type is needed here
    from grader.gradebook.repository import Gradebook

RUN_STATUS = {"completed": "graded", "timeout": "timeout", "oom": "oom", "crashed": "error"}


@dataclass(frozen=True)
class GradingMaterials:
    """What grading one assignment takes, loaded once: its spec, rubric, judge, probe folder, hidden-tests version
    and the redactor of its hidden inputs."""

    assignment: Assignment
    rubric: Rubric
    judge: Judge
    probe_dir: Path
    hidden_tests_version: str
    redactor: Redactor


@dataclass(frozen=True)
class Verdict:
    result: GradeResult
    check_outcomes: dict[str, CheckOutcome]  # instructors only: details may hold expected values


def intake_caps(settings: Settings) -> intake.IntakeCaps:
    return intake.IntakeCaps.of(settings)


def load_grading_materials(settings: Settings, assignment_id: str) -> GradingMaterials:
    assignment = course_files.load_assignment(settings, assignment_id)
    paths = course_files.assignment_paths(settings, assignment_id)
    return GradingMaterials(
        assignment=assignment,
        rubric=course_files.load_rubric(settings, assignment_id),
        judge=load_judge(paths.judge),
        probe_dir=paths.probe,
        hidden_tests_version=course_files.hidden_tests_version(settings, assignment_id),
        redactor=Redactor.from_folders(paths.probe, paths.judge),
    )


@dataclass
class Grader:
    """One grader for one course: loads each assignment once and grades with one sandbox backend."""

    settings: Settings
    backend: SandboxBackend
    _materials: dict[str, GradingMaterials] = field(default_factory=dict)

    def materials(self, assignment_id: str) -> GradingMaterials:
        if assignment_id not in self._materials:
            self._materials[assignment_id] = load_grading_materials(self.settings, assignment_id)
        return self._materials[assignment_id]

    def accept(self, source: Path, original_name: str, assignment_id: str) -> StoredSubmission:
        """Validate and store durably; raises intake.Rejected with the student-facing reason."""
        return accept_into_store(self.settings, self.materials(assignment_id).assignment, source, original_name)

    def grade_path(self, source: Path, assignment_id: str, original_name: str | None = None) -> Verdict:
        started = time.monotonic()
        materials = self.materials(assignment_id)
        try:
            stored = self.accept(source, original_name or source.name, assignment_id)
        except intake.Rejected as rejection:
            result = self._base_result(materials, None, None)
            result.status, result.message = "rejected", str(rejection)
            result.duration_s = round(time.monotonic() - started, 3)
            return Verdict(result, {})
        return self.grade_stored_submission(stored, assignment_id, started=started)

    def grade_stored_submission(
        self,
        stored: StoredSubmission,
        assignment_id: str,
        *,
        started: float | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> Verdict:
        started = time.monotonic() if started is None else started
        materials = self.materials(assignment_id)
        spec = RunSpec(
            submission_tree=stored.tree,
            entry=materials.assignment.entry,
            entry_kind="notebook" if stored.entry_kind == "notebook" else "module",
            probe_dir=materials.probe_dir,
            limits=self.run_limits(materials.assignment),
            seed=self.settings.grading_seed,
            gpu=materials.assignment.gpu,
            threads=self.settings.sandbox_threads,
            step_wall_cap_factor=self.settings.step_wall_cap_factor,
        )
        result = self._base_result(materials, stored, spec)
        attempts = 0
        while True:
            attempts += 1
            try:
                outcome = self.backend.run(spec)
                break
            except SandboxError as error:
                if attempts > self.settings.infra_retries or isinstance(error, GpuUnavailable):
                    result.status, result.message = "infra_error", f"{STATUS_MEANING['infra_error']}: {error}"
                    result.infra_attempts = attempts
                    result.duration_s = round(time.monotonic() - started, 3)
                    return Verdict(result, {})
                if progress:
                    progress(f"sandbox failed ({error}); retrying")
        result.infra_attempts = attempts - 1
        verdict = judge_outcome(materials, outcome, result)
        verdict.result.duration_s = round(time.monotonic() - started, 3)
        return verdict

    def run_limits(self, assignment: Assignment) -> Limits:
        cap = self.settings.run_time_cap_s
        if cap is None or cap >= assignment.limits.time_s:
            return assignment.limits
        cells, gpu = assignment.limits.notebook_cells_s, assignment.limits.gpu
        return assignment.limits.model_copy(
            update={
                "time_s": cap,
                "notebook_cells_s": cells if cells and cells < cap else None,
                "gpu": gpu.model_copy(update={"time_s": None}) if gpu else None,
            }
        )

    def _base_result(
        self, materials: GradingMaterials, stored: StoredSubmission | None, spec: RunSpec | None
    ) -> GradeResult:
        return GradeResult(
            assignment=materials.assignment.id,
            assignment_version=materials.assignment.version,
            rubric_version=materials.rubric.version,
            hidden_tests_version=materials.hidden_tests_version,
            submission_sha256=stored.sha256 if stored else None,
            submission_kind=stored.kind if stored else None,
            status="graded",
            max_score=sum(c.points for c in materials.rubric.criteria),
            automated_max_score=materials.rubric.automated_points,
            pending_manual_points=sum(c.points for c in materials.rubric.criteria if c.manual),
            sandbox=SandboxInfo(**self.backend.describe(spec)) if spec else None,
        )


def judge_outcome(materials: GradingMaterials, outcome: RunOutcome, result: GradeResult) -> Verdict:
    """The verdict: hidden checks over the run's data, scored against the rubric."""
    data = ProbeData.from_files(outcome.files, timed_out=outcome.status == "timeout")
    outcomes = materials.judge.run(data)
    result.criteria = score(materials.rubric, outcomes, materials.redactor)
    result.score = round(sum(c.points for c in result.criteria), 2)
    result.status = RUN_STATUS[outcome.status]  # `oom` only from the kernel's OOM kill, never from what the code raised
    if outcome.gpu.device == "cuda" and result.status in ("graded", "error") and cuda_out_of_memory(data):
        result.status = "oom"  # torch's own refusal on the GPU: the code raised it, but claiming it gains nothing
    # Every field a student reads goes through the redactor: a load error or a cell's message may quote hidden input.
    result.message = materials.redactor.redact(run_message(result.status, outcome, data, materials.assignment))
    result.logs = Logs(
        stdout=materials.redactor.redact(outcome.stdout),
        stderr=materials.redactor.redact(outcome.stderr),
        truncated=outcome.output_truncated,
    )
    result.notebook_cells = [
        cell.model_copy(
            update={
                "message": materials.redactor.redact(cell.message),
                "first_line": materials.redactor.redact(cell.first_line),
            }
        )
        for cell in notebook_cells(outcome)
    ]
    if result.sandbox is not None:
        result.sandbox.gpu = outcome.gpu
    return Verdict(result, outcomes)


def run_message(status: str, outcome: RunOutcome, data: ProbeData, assignment: Assignment) -> str:
    limits = assignment.limits
    if status == "timeout":
        return f"{timeout_reason(outcome, limits.time_s)}; the checks that finished before were graded."
    if status == "oom" and outcome.gpu.device == "cuda" and cuda_out_of_memory(data):
        share = f"{outcome.gpu.memory_fraction:.0%} of " if outcome.gpu.memory_fraction else ""
        return (
            f"Your code ran out of GPU memory (this grading may use {share}GPU {outcome.gpu.device_id}'s memory); "
            "the parts that needed more failed, and the checks that finished were graded."
        )
    if status == "oom":
        return (
            f"Your code used more than the {limits.memory_mb} MB memory limit and the system stopped it; "
            "the checks that finished were graded."
        )
    load = data.steps.get("load")
    if load is not None and not load.ok:
        return f"Your solution could not be loaded: {format_step_error(load.error)}"
    if outcome.status == "crashed":
        return (
            "Your program stopped before the grader's checks finished (it exited or crashed"
            f"{'' if outcome.returncode is None else f', exit code {outcome.returncode}'}); what ran was graded."
        )
    return "Graded."


def timeout_reason(outcome: RunOutcome, time_s: int) -> str:
    """Which of the run's time limits stopped it, with the figures, and what to do about it."""
    spent = outcome.run_time
    if spent is not None and spent.passed == "cpu":
        return (
            f"Your program used {spent.cpu_s:.1f} s of CPU time, over the run's limit of {spent.cpu_limit_s:g} s of "
            "CPU time, so it was stopped. The limit counts CPU time of all its processes and threads, not time spent "
            "waiting for a busy machine: make it do less work (fewer epochs or examples, vectorised code)"
        )
    if spent is not None and spent.passed == "wall":
        return (
            f"Your program ran for {outcome.duration_s:.0f} s of wall-clock time, the run's cap ({spent.wall_cap_s:g} "
            f"s: a multiple of its {spent.cpu_limit_s:g} s CPU limit), while using only {spent.cpu_s:.1f} s of CPU, "
            "so it was stopped: it was waiting (sleep, input(), a lock, a network call or a child process that does "
            "not end). Do not block: the sandbox has no network and no keyboard"
        )
    return (
        f"Your program ran past the run's time limit ({time_s} s of CPU time, under a wall-clock cap) and the "
        "sandbox was stopped from outside"
    )


def cuda_out_of_memory(data: ProbeData) -> bool:
    """A step failed with torch's CUDA out-of-memory error (raised past the grading's share of the GPU, too)."""
    return any(
        step.error is not None
        and step.error.get("type") == "OutOfMemoryError"
        and "CUDA out of memory" in str(step.error.get("message", ""))
        for step in data.steps.values()
    )


def notebook_cells(outcome: RunOutcome) -> list[NotebookCell]:
    raw = outcome.files.get("_notebook.json")
    if raw is None:
        return []
    try:
        cells = read_json(raw)["cells"]
        return [
            NotebookCell(
                index=int(c["index"]),
                status=c["status"],
                message=str(c.get("message", ""))[:300],
                label=str(c.get("label", ""))[:40],
                first_line=str(c.get("first_line", ""))[:80],
            )
            for c in cells
        ]
    except (ValueError, KeyError, TypeError):
        return []


def accept_into_store(
    settings: Settings, assignment: Assignment, source: Path, original_name: str, flush: bool = True
) -> StoredSubmission:
    with store.staging(settings.store_dir) as staging:
        return accept_staged(settings, assignment, staging, source, original_name, flush)


def accept_staged(
    settings: Settings, assignment: Assignment, staging: Path, source: Path, original_name: str, flush: bool = True
) -> StoredSubmission:
    """Intake `source` into `staging/tree`, then store it; an upload already written into the staging folder
    (`store.original_folder`) is stored without another copy."""
    tree = staging / "tree"
    tree.mkdir()
    accepted = intake.accept(source, original_name, assignment, intake_caps(settings), tree)
    return store.put(settings.store_dir, staging, source, accepted, flush)


def ensure_in_store(settings: Settings, gradebook: Gradebook, sha256: str, assignment_id: str) -> None:
    """An upload the web app kept in the gradebook (`UploadContent`) is written to the store, flushed, before anything
    reads it there: the grader, the instructor's file view. Stored already, or stored at upload: nothing to do."""
    if store.is_stored(settings.store_dir, sha256):
        return
    kept = gradebook.submissions.upload_content(sha256)
    if kept is None:
        return  # not kept: `store.get` then says the submission is missing
    with store.staging(settings.store_dir) as staging:
        source = store.original_folder(staging) / Path(kept.original_name).name
        source.write_bytes(kept.content)
        accept_staged(
            settings, course_files.load_assignment(settings, assignment_id), staging, source, kept.original_name
        )


# Functional entry points for the web app and the workers.


def accept_submission(path: Path, original_name: str, assignment_id: str, settings: Settings) -> StoredSubmission:
    return accept_into_store(settings, course_files.load_assignment(settings, assignment_id), path, original_name)


def grade_by_sha256(
    sha256: str, assignment_id: str, settings: Settings, backend: SandboxBackend | None = None
) -> GradeResult:
    """The queues' grade function (`GradeFunction`): the stored submission `sha256`, graded on the sandbox the
    settings choose (or `backend`)."""
    from grader.sandbox.select import select_backend

    grader = Grader(settings, backend or select_backend(settings))
    return grader.grade_stored_submission(store.get(settings.store_dir, sha256), assignment_id).result
