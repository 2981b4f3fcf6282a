"""The grading result and its JSON form (schema version 1). Documented in README.md, section "Result JSON"."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

SCHEMA_VERSION = 1

Status = Literal["graded", "rejected", "timeout", "oom", "error", "infra_error"]
STATUS_MEANING: dict[str, str] = {
    "graded": "the submission ran and every hidden check was judged",
    "rejected": "refused at intake, before anything ran (see message)",
    "timeout": "the run passed its time limit and was stopped; checks on what finished before were judged",
    "oom": "the run passed its memory limit and was stopped",
    "error": "the student's code crashed (or exited) before the grader's checks could run it all",
    "infra_error": "the grader or the sandbox failed; retried automatically and never counted as an attempt",
}


class CheckResult(BaseModel):
    id: str
    passed: bool


class CriterionResult(BaseModel):
    id: str
    title: str
    points: float
    max_points: float
    feedback: str
    manual: bool = False
    visibility: Literal["always", "after_deadline"] = "always"
    checks: list[CheckResult] = Field(default_factory=list)
    requirements: list[str] = Field(default_factory=list)  # the handout's requirements (R1, ...) of failed checks


class WorkerInfo(BaseModel):
    """The grading process that ran the sandbox: which host to look at when a result is questioned."""

    host: str
    pid: int
    gpu: str | None = None  # the GPU model this worker passes to the sandbox


class GpuUse(BaseModel):
    """The device the run got and why: the host, the image and the assignment decide (README, "GPU hosts")."""

    device: Literal["cpu", "cuda"] = "cpu"
    device_id: str | None = None  # the host's GPU (nvidia-smi's number) the run held
    memory_fraction: float | None = None  # the run's share of that GPU's memory, when several gradings share it
    reason: str = ""

    @model_validator(mode="before")
    @classmethod
    def _from_flag(cls, value: Any) -> Any:
        """Results stored before the reason was recorded say only `gpu: true` or `false`."""
        if isinstance(value, bool):
            return {"device": "cuda" if value else "cpu"}
        return value


class SandboxInfo(BaseModel):
    kind: str  # docker | local
    isolation: str  # what the backend enforces, in words; "weaker" for the local backend
    image: str | None = None
    gpu: GpuUse = Field(default_factory=GpuUse)
    limits: dict[str, float | int]
    worker: WorkerInfo | None = None


class NotebookCell(BaseModel):
    index: int  # position among all the notebook's cells, markdown included
    status: Literal["ok", "error", "timeout", "skipped"]
    message: str = ""
    label: str = ""  # as Jupyter numbers a top-to-bottom run: "code cell 3"
    first_line: str = ""


class Logs(BaseModel):
    """The student's own output (redacted of hidden material), head and tail kept within the output cap."""

    stdout: str = ""
    stderr: str = ""
    truncated: bool = False


class GradeResult(BaseModel):
    schema_version: int = SCHEMA_VERSION
    assignment: str
    assignment_version: str = ""
    rubric_version: str = ""
    hidden_tests_version: str = ""
    submission_sha256: str | None = None
    submission_kind: str | None = None
    status: Status
    message: str = ""
    score: float = 0.0
    max_score: float = 20.0
    automated_max_score: float = 0.0
    pending_manual_points: float = 0.0
    criteria: list[CriterionResult] = Field(default_factory=list)
    notebook_cells: list[NotebookCell] = Field(default_factory=list)
    logs: Logs = Field(default_factory=Logs)
    duration_s: float = 0.0
    sandbox: SandboxInfo | None = None
    infra_attempts: int = 0
    graded_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def counts_as_attempt(self) -> bool:
        return self.status != "infra_error"
