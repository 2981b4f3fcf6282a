"""The sandbox interface. Backends (docker, local) run the same runtime and return the same outcome.

Inside every backend the layout is the same: the runner (grader/sandbox/runtime/runner.py) is the first process; it
starts the trusted driver (runtime/driver.py, which runs the probe: hidden *inputs*, never the judge), and the driver
starts the student's code in a process of its own and talks to it over a socket. The submission and the probe are
read-only, and the only way data comes back is the runner's payload.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from grader.domain.assignment import Limits
from grader.domain.result import GpuUse
from grader.sandbox.runtime.runner import PAYLOAD_MAGIC, PAYLOAD_SIZE

if TYPE_CHECKING:  # grader.sandbox.gpu builds on this module
    from grader.sandbox.gpu import DeviceChoice

RUNTIME_DIR = Path(__file__).resolve().parent / "runtime"
GRACE_S = 15.0  # beyond the run's own wall cap: container start-up, kernel start-up, collecting the payload
# A probe step's budget and the run's limit (`limits.time_s`) are CPU seconds; code that waits instead (sleep, a lock)
# is stopped after this many times the budget in wall-clock seconds. Settings.step_wall_cap_factor defaults to it.
STEP_WALL_CAP_FACTOR = 5.0
CpuClockKind = Literal["cgroup", "session"]  # runtime/grader_step_budget.py
GpuRequest = Literal["none", "optional", "required"]  # an assignment's `gpu`


class SandboxError(Exception):
    """The sandbox itself failed (no engine, no image, no payload): an infra_error, never the student's fault."""


@dataclass(frozen=True)
class RunSpec:
    submission_tree: Path
    entry: str
    entry_kind: Literal["module", "notebook"]
    probe_dir: Path
    limits: Limits
    seed: int
    gpu: GpuRequest = "none"
    threads: int | None = None  # math-library threads inside the run; default: the assignment's CPU limit
    step_wall_cap_factor: float = STEP_WALL_CAP_FACTOR

    @property
    def thread_count(self) -> int:
        return self.threads or max(1, int(self.limits.cpus))

    @property
    def outer_wall_limit_s(self) -> float:
        """When the backend kills the sandbox from outside: the runner's own wall cap has failed to end the run."""
        return self.limits.time_s * self.step_wall_cap_factor + GRACE_S


@dataclass(frozen=True)
class RunTime:
    """The run's time as the runner counted it: CPU seconds of all its processes against `limits.time_s`, and the
    wall-clock cap; `passed`: which of the two stopped the run, if one did."""

    cpu_s: float
    cpu_limit_s: float
    wall_cap_s: float
    passed: Literal["cpu", "wall"] | None


@dataclass(frozen=True)
class RunOutcome:
    """What came back from one sandboxed run. `status` is about the run, not the verdict."""

    status: Literal["completed", "timeout", "oom", "crashed"]
    files: dict[str, bytes]
    stdout: str
    stderr: str
    output_truncated: bool
    returncode: int | None
    duration_s: float
    gpu: GpuUse = field(default_factory=GpuUse)
    refused_files: list[str] = field(default_factory=list)
    run_time: RunTime | None = None  # None: killed from outside, or a runner from before the run counted CPU


class SandboxBackend(Protocol):
    kind: str

    def run(self, spec: RunSpec) -> RunOutcome: ...

    def describe(self, spec: RunSpec) -> dict: ...

    def device_choice(self, request: GpuRequest) -> DeviceChoice: ...


def runner_arguments(spec: RunSpec, *, submission: str, probe: str, result: str, workdir: str, tmpdir: str,
                     gpu: GpuUse, cpu_clock: CpuClockKind, student_uid: int | None = None) -> list[str]:
    """`spec.limits` are the ones for the device the run got (`Limits.for_device`); `cpu_clock`: what a step's CPU
    budget counts (`cgroup` only where the run has a cgroup of its own)."""
    limits = spec.limits
    identity = ["--student-uid", str(student_uid)] if student_uid is not None else []
    memory_fraction = ["--gpu-memory-fraction", str(gpu.memory_fraction)] if gpu.memory_fraction else []
    return [*memory_fraction, "--budgets", json.dumps(limits.budgets_s),
        *identity, "--submission", submission, "--probe", probe, "--result", result, "--workdir", workdir,
        "--tmpdir", tmpdir,
        "--entry", spec.entry, "--device", gpu.device, "--kind", spec.entry_kind,
        "--time-limit", str(limits.time_s), "--cell-timeout", str(limits.cell_timeout_s),
        "--cells-budget", str(limits.notebook_cells_budget_s),
        "--output-limit", str(limits.output_kb * 1024), "--threads", str(spec.thread_count), "--seed", str(spec.seed),
        "--cpu-clock", cpu_clock, "--step-wall-cap-factor", str(spec.step_wall_cap_factor),
    ]


def parse_payload(payload: bytes, *, killed_for_time: bool, oom_killed: bool, gpu: GpuUse | None = None) -> RunOutcome:
    """Read the runner's payload (see runner.write_payload). `oom` comes only from the kernel: the container's
    OOM-killed state or the cgroup's oom_kill count, never from anything the run printed or raised."""
    gpu = gpu or GpuUse()
    if not payload.startswith(PAYLOAD_MAGIC):  # the runner writes nothing before it; records may hold anything after
        if killed_for_time or oom_killed:
            return RunOutcome(status="oom" if oom_killed else "timeout", files={}, stdout="", stderr="",
                              output_truncated=False, returncode=None, duration_s=0.0, gpu=gpu)
        raise SandboxError("the sandbox returned no result")
    try:
        start = len(PAYLOAD_MAGIC)
        (size,) = PAYLOAD_SIZE.unpack_from(payload, start)
        start += PAYLOAD_SIZE.size
        header = json.loads(payload[start:start + size])
        files, offset = {}, start + size
        for name, length in header["files"]:
            files[str(name)] = payload[offset:offset + int(length)]
            offset += int(length)
        if offset != len(payload):
            raise ValueError("the records do not add up to the payload")
        run_time = RunTime(**header["run_time"]) if "run_time" in header else None
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
        raise SandboxError(f"the sandbox's result could not be read: {error}") from error
    oom = oom_killed or header.get("oom_kills", 0) > 0
    if header["timed_out"]:
        status = "timeout"
    elif oom:
        status = "oom"
    elif header["returncode"] != 0 or "_done.json" not in files:
        status = "crashed"
    else:
        status = "completed"
    return RunOutcome(status=status, files=files, stdout=header["stdout"], stderr=header["stderr"],
                      output_truncated=bool(header["output_truncated"]), returncode=header["returncode"],
                      duration_s=float(header["duration_s"]), gpu=gpu, refused_files=header.get("refused_files", []),
                      run_time=run_time)
