"""Which process graded a job: host, pid and GPU of the worker, recorded on the job row and in the result."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

from grader.db.models import GradingJob
from grader.domain.result import WorkerInfo


@dataclass(frozen=True)
class WorkerIdentity:
    host: str
    pid: int
    gpu: str | None = None  # the GPU this worker passes to the sandbox, by model name (`host_gpu_model`)

    @classmethod
    def of_this_process(cls, gpu: str | None = None) -> WorkerIdentity:
        return cls(socket.gethostname(), os.getpid(), gpu)

    @property
    def name(self) -> str:
        """`host:pid`, the worker's heartbeat row and its jobs' holder name."""
        return f"{self.host}:{self.pid}"

    def info(self) -> WorkerInfo:
        return WorkerInfo(host=self.host, pid=self.pid, gpu=self.gpu)


@dataclass(frozen=True)
class JobTrace:
    """Where a job ran, as its row records it; what the instructor's submission page and results.csv show."""

    worker: str  # host:pid
    sandbox_image: str | None
    gpu: str | None

    def __str__(self) -> str:
        return " · ".join(part for part in (self.worker, self.sandbox_image or "local sandbox", self.gpu) if part)


def job_trace(job: GradingJob | None) -> JobTrace | None:
    """None for a job no worker has claimed yet (or graded before workers were recorded)."""
    if job is None or job.worker_host is None:
        return None
    return JobTrace(f"{job.worker_host}:{job.worker_pid}", job.sandbox_image, job.worker_gpu)
