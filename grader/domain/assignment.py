"""An assignment as the grader sees it: what it accepts, how long and how much it may run. No I/O here."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SubmissionKind = Literal["py", "zip", "ipynb", "folder"]
ASSIGNMENT_ID = re.compile(r"^p[1-9][0-9]*$")
DEFAULT_EXTENSIONS = (
    ".py",
    ".ipynb",
    ".txt",
    ".md",
    ".rst",
    ".json",
    ".jsonl",
    ".csv",
    ".tsv",
    ".yaml",
    ".yml",
    ".toml",
    ".cfg",
    ".ini",
    ".png",
    ".jpg",
    ".jpeg",
    ".gif",
    ".svg",
    ".npz",
    ".npy",
    ".safetensors",
    ".html",
)


class GpuLimits(BaseModel):
    """What changes when a run got a GPU (`limits.gpu`): the run's wall clock, and the probe's named budgets."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    time_s: int | None = Field(None, ge=1, le=3600, description="CPU seconds of the whole run on a GPU")
    budgets_s: dict[str, float] = Field(default_factory=dict, description="overrides of limits.budgets_s on a GPU")


class Limits(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    time_s: int = Field(
        120,
        ge=1,
        le=3600,
        description="CPU seconds of the whole sandboxed run (all its processes), under a wall-clock cap of "
        "Settings.step_wall_cap_factor times it",
    )
    memory_mb: int = Field(2048, ge=64, le=65536)
    cpus: float = Field(2.0, gt=0, le=64)
    pids: int = Field(256, ge=16, le=4096)
    workspace_mb: int = Field(256, ge=8, le=8192, description="tmpfs for the working directory and /tmp")
    output_kb: int = Field(256, ge=1, le=65536, description="stdout and stderr kept for feedback")
    cell_timeout_s: int = Field(
        60,
        ge=1,
        le=3600,
        description="CPU seconds of one notebook cell (its kernel and children), under the same "
        "wall-clock cap as time_s",
    )
    notebook_cells_s: int | None = Field(
        None,
        ge=1,
        le=3600,
        description="CPU seconds of all of a notebook's own cells together; the rest of time_s is kept for the "
        "grader's checks (default: half of time_s)",
    )
    budgets_s: dict[str, float] = Field(
        default_factory=dict, description="named time budgets the probe reads with gp.budget(name), e.g. training"
    )
    gpu: GpuLimits | None = Field(None, description="what changes when the run got a GPU")

    @model_validator(mode="after")
    def _cells_leave_time_for_the_checks(self) -> "Limits":
        if self.notebook_cells_s is not None and self.notebook_cells_s >= self.time_s:
            raise ValueError(
                f"notebook_cells_s ({self.notebook_cells_s}) must be less than time_s ({self.time_s}): "
                "the grader's checks run after the cells, within the same time"
            )
        return self

    @model_validator(mode="after")
    def _gpu_budgets_have_cpu_ones(self) -> "Limits":
        unknown = sorted(set(self.gpu.budgets_s) - set(self.budgets_s)) if self.gpu else []
        if unknown:
            raise ValueError(
                f"limits.gpu.budgets_s names {unknown}, which limits.budgets_s lacks: every budget needs "
                "its CPU value, which a run without a GPU uses"
            )
        return self

    def for_device(self, device: str) -> "Limits":
        """The limits of a run on `device` ("cpu" or "cuda"): on a GPU, limits.gpu's values replace the others."""
        if device != "cuda" or self.gpu is None:
            return self
        return self.model_copy(
            update={
                "time_s": self.gpu.time_s or self.time_s,
                "budgets_s": {**self.budgets_s, **self.gpu.budgets_s},
                "gpu": None,
            }
        )

    @property
    def notebook_cells_budget_s(self) -> int:
        return self.notebook_cells_s if self.notebook_cells_s is not None else max(1, self.time_s // 2)

    def effective(self) -> dict[str, float | int]:
        """The limits a run is held to, as numbers (the result's `sandbox.limits`): defaults resolved."""
        budgets = {f"budget_{name}_s": value for name, value in self.budgets_s.items()}
        return {
            **self.model_dump(exclude={"notebook_cells_s", "budgets_s", "gpu"}),
            "notebook_cells_s": self.notebook_cells_budget_s,
            **budgets,
        }


class Assignment(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    deadline_lesson: int | None = None
    deadline: datetime | None = None  # a date of its own; else the course calendar's date of deadline_lesson
    hidden_criteria_shown: Literal["after_due_date", "after_course_end"] = Field(
        "after_course_end",
        description="when criteria with visibility after_deadline appear to students: while late "
        "work still counts, showing them after the due date shows late students what the hidden tests check",
    )
    kinds: tuple[SubmissionKind, ...] = ("py", "zip", "ipynb", "folder")
    entry: str = "solution.py"
    gpu: Literal["none", "optional", "required"] = "none"
    limits: Limits = Limits()
    allowed_extensions: tuple[str, ...] = DEFAULT_EXTENSIONS
    version: str = ""  # content hash of assignment.yaml, rubric and hidden tests; filled by the loader

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not ASSIGNMENT_ID.match(value):
            raise ValueError(f"assignment id must look like p1, p2 ... (got {value!r})")
        return value

    @property
    def entry_is_python(self) -> bool:
        return self.entry.endswith(".py")
