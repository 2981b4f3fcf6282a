"""The sandbox interface. Backends (docker, local) run the same runtime and return the same outcome.

Inside every backend the layout is the same: the runner (grader/sandbox/runtime/runner.py) is the first process, the
student's submission is read-only, the probe (hidden *inputs*, never the judge) is read-only, and the only way data
comes back is the runner's payload on stdout.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from grader.domain.assignment import Limits
from grader.sandbox.runtime.runner import PAYLOAD_MARKER

RUNTIME_DIR = Path(__file__).resolve().parent / "runtime"
GRACE_S = 15.0  # beyond the run's own limit: container start-up, kernel start-up, collecting the payload


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
    want_gpu: bool = False
    threads: int | None = None  # math-library threads inside the run; default: the assignment's CPU limit

    @property
    def thread_count(self) -> int:
        return self.threads or max(1, int(self.limits.cpus))


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
    gpu: bool = False
    refused_files: list[str] = field(default_factory=list)


class SandboxBackend(Protocol):
    kind: str

    def run(self, spec: RunSpec) -> RunOutcome: ...

    def describe(self, spec: RunSpec) -> dict: ...


def runner_arguments(spec: RunSpec, *, submission: str, probe: str, out: str, workdir: str, tmpdir: str,
                     device: str) -> list[str]:
    limits = spec.limits
    return [
        "--submission", submission, "--probe", probe, "--out", out, "--workdir", workdir, "--tmpdir", tmpdir,
        "--entry", spec.entry, "--device", device, "--kind", spec.entry_kind,
        "--time-limit", str(limits.time_s), "--cell-timeout", str(limits.cell_timeout_s),
        "--output-limit", str(limits.output_kb * 1024), "--threads", str(spec.thread_count), "--seed", str(spec.seed),
    ]


def parse_payload(stdout: bytes, *, killed_for_time: bool, oom_killed: bool, gpu: bool) -> RunOutcome:
    """Read the runner's payload: the LAST marker counts (only the runner can write after everything else is dead)."""
    position = stdout.rfind(PAYLOAD_MARKER)
    if position < 0:
        if killed_for_time or oom_killed:
            return RunOutcome(status="oom" if oom_killed else "timeout", files={}, stdout="", stderr="",
                              output_truncated=False, returncode=None, duration_s=0.0, gpu=gpu)
        raise SandboxError(f"the sandbox returned no result (its output began: {stdout[:200]!r})")
    encoded = stdout[position + len(PAYLOAD_MARKER):].strip()
    try:
        payload = json.loads(base64.b64decode(encoded, validate=True))
        files = {name: base64.b64decode(content, validate=True) for name, content in payload["files"].items()}
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        raise SandboxError(f"the sandbox's result could not be read: {error}") from error
    oom = oom_killed or payload.get("oom_kills", 0) > 0 or "MemoryError" in payload.get("stderr", "")[-2000:]
    if payload["timed_out"]:
        status = "timeout"
    elif oom:
        status = "oom"
    elif payload["returncode"] != 0 or "_done.json" not in files:
        status = "crashed"
    else:
        status = "completed"
    return RunOutcome(status=status, files=files, stdout=payload["stdout"], stderr=payload["stderr"],
                      output_truncated=bool(payload["output_truncated"]), returncode=payload["returncode"],
                      duration_s=float(payload["duration_s"]), gpu=gpu, refused_files=payload.get("refused_files", []))
