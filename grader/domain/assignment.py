"""An assignment as the grader sees it: what it accepts, how long and how much it may run. No I/O here."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SubmissionKind = Literal["py", "zip", "ipynb", "folder"]
ASSIGNMENT_ID = re.compile(r"^p[1-9][0-9]*$")
DEFAULT_EXTENSIONS = (
    ".py", ".ipynb", ".txt", ".md", ".rst", ".json", ".jsonl", ".csv", ".tsv", ".yaml", ".yml", ".toml", ".cfg",
    ".ini", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".npz", ".npy", ".safetensors", ".html",
)


class Limits(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    time_s: int = Field(120, ge=1, le=3600, description="wall clock for the whole sandboxed run")
    memory_mb: int = Field(2048, ge=64, le=65536)
    cpus: float = Field(2.0, gt=0, le=64)
    pids: int = Field(256, ge=16, le=4096)
    workspace_mb: int = Field(256, ge=8, le=8192, description="tmpfs for the working directory and /tmp")
    output_kb: int = Field(256, ge=1, le=65536, description="stdout and stderr kept for feedback")
    cell_timeout_s: int = Field(60, ge=1, le=3600, description="per notebook cell")


class Assignment(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    deadline_lesson: int | None = None
    deadline: datetime | None = None
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
