"""The one settings object. Built once by an entrypoint and passed down; nothing reads the environment elsewhere."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from grader.sandbox.base import STEP_WALL_CAP_FACTOR

REPO_ROOT = Path(__file__).resolve().parent.parent


def _default_course_dir() -> Path:
    """The checkout that holds assignments/ and rubrics/ (the repository root in a development install)."""
    if (REPO_ROOT / "assignments").is_dir():
        return REPO_ROOT
    return Path.cwd()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRADER_", extra="ignore")

    course_dir: Path = Field(default_factory=_default_course_dir)
    data_dir: Path = Field(default_factory=lambda: Path.cwd() / ".grader-data")
    database_url: str | None = None  # default: SQLite file in data_dir

    sandbox: Literal["auto", "docker", "local"] = "auto"
    sandbox_image: str | None = None  # default: the tag built from sandbox_dir's inputs
    sandbox_dir: Path = REPO_ROOT / "sandbox"  # what builds the sandbox image: part of the grader, not of a course
    docker_base_url: str | None = None  # default: the docker SDK's environment (DOCKER_HOST or the local socket)
    # Math-library threads per sandboxed run (OMP/MKL/OpenBLAS); default: the assignment's CPU limit. Set it to
    # cores / parallel gradings when several run at once: oversubscribed torch threads slow everything down.
    sandbox_threads: int | None = None
    # GPUs (README, "GPU hosts"). auto: a GPU when the host, the image and the assignment allow; cpu | cuda: every run.
    sandbox_device: Literal["auto", "cpu", "cuda"] = "auto"
    # The host's GPU slots, one device id per grading at once: "0,0,1" (two on GPU 0, one on GPU 1) or "all:N".
    gpu_slots: str = "all:1"
    # The CUDA build of torch in the image `grader sandbox build --gpu` makes (the suffix of PyTorch's wheel index).
    sandbox_cuda: str = "cu128"
    infra_retries: int = 2
    # Caps every assignment's time limit (CPU seconds of the run) when set: mutation analysis stops a mutant stuck in a
    # loop at a few times the reference's run instead of the full limit.
    run_time_cap_s: int | None = None
    # A probe step's budget, and the run's time limit, count CPU seconds; a step or run that waits (sleeps, blocks)
    # instead is stopped after this many times its budget in wall-clock seconds.
    step_wall_cap_factor: float = Field(default=STEP_WALL_CAP_FACTOR, gt=1)
    grading_seed: int = 1234

    # Intake caps
    max_upload_bytes: int = 20 * 1024 * 1024
    max_files: int = 500
    max_expanded_bytes: int = 64 * 1024 * 1024
    max_compression_ratio: float = 200.0

    queue: Literal["inprocess", "celery"] = "inprocess"
    broker_url: str = "redis://127.0.0.1:6379/0"
    workers: int | None = (
        None  # default: number of cores (`grader worker`: one per the assignments' largest limits.cpus)
    )
    visibility_timeout_s: int = (
        3600  # Redis broker: an unacknowledged job is redelivered after this; above the longest grading
    )
    heartbeat_s: float = 5.0  # workers refresh their heartbeat this often; two missed beats mean the worker is gone
    worker_forget_after_s: float = 24 * 3600  # heartbeat rows silent this long are deleted (each restart adds one)
    batch_no_worker_s: float = 300.0  # `grader batch` on Celery gives up when no worker was alive for this long

    embedding_model: str = "all-MiniLM-L6-v2"

    @field_validator("course_dir", "data_dir", "sandbox_dir")
    @classmethod
    def _absolute(cls, path: Path) -> Path:
        return path.expanduser().resolve()

    @property
    def assignments_dir(self) -> Path:
        return self.course_dir / "assignments"

    @property
    def rubrics_dir(self) -> Path:
        return self.course_dir / "rubrics"

    @property
    def references_dir(self) -> Path:
        return self.course_dir / "reference_solutions"

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "store"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'grader.sqlite3'}"
