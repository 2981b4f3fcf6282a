"""Local sandbox for machines without a Docker engine. WEAKER isolation, and every result says so.

With bubblewrap (`bwrap`) the run gets its own PID, network, IPC and mount namespaces, no network, the course's hidden
folders and the grader's data masked, and a read-only view of the system. Without it, the run is a plain child process
with resource limits (rlimits) only: it can read whatever the grader's user can read.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from grader.domain.result import GpuUse
from grader.sandbox.base import RUNTIME_DIR, GpuRequest, RunOutcome, RunSpec, parse_payload, runner_arguments
from grader.sandbox.gpu import DeviceChoice, GpuUnavailable, gpu_is_required

# Inside bubblewrap the system is mounted read-only, so the run's own folders are mount points on its fresh /tmp.
BWRAP_ROOT = "/tmp/grader"


class LocalBackend:
    kind = "local"

    def __init__(self, masked_paths: tuple[Path, ...] = (), use_bwrap: bool | None = None) -> None:
        self.masked_paths = tuple(p for p in masked_paths if p.exists())
        self.bwrap = shutil.which("bwrap") if use_bwrap is not False else None
        if self.bwrap and not _bwrap_works(self.bwrap):
            self.bwrap = None

    @property
    def isolation(self) -> str:
        if self.bwrap:
            return ("weaker than docker: bubblewrap namespaces (no network, own PIDs, hidden folders masked), rlimits; "
                    "no cgroup memory/CPU accounting; the student's code runs in its own process but under the "
                    "grader's uid, so it can read the hidden inputs")
        return ("weak: child processes with rlimits only; the student's code runs in its own process but under the "
                "grader's uid and can read what the grader's user can read")

    def describe(self, spec: RunSpec) -> dict:
        return {"kind": self.kind, "isolation": self.isolation, "image": None,
                "gpu": GpuUse(reason=self.device_choice(spec.gpu).reason), "limits": spec.limits.effective()}

    def device_choice(self, request: GpuRequest) -> DeviceChoice:
        if request == "none":
            return DeviceChoice("cpu", "the assignment asks for no GPU")
        return DeviceChoice("cpu", "the local sandbox passes no GPU: grade with the docker sandbox on a GPU host")

    def run(self, spec: RunSpec) -> RunOutcome:
        if gpu_is_required(spec.gpu, "auto"):
            raise GpuUnavailable(f"this run needs a GPU, but {self.device_choice(spec.gpu).reason}")
        with tempfile.TemporaryDirectory(prefix="grader-run-") as scratch:
            root = Path(scratch)
            for name in ("work", "tmp"):
                (root / name).mkdir()
            if self.bwrap:
                paths = {"submission": f"{BWRAP_ROOT}/submission", "probe": f"{BWRAP_ROOT}/probe",
                         "workdir": f"{BWRAP_ROOT}/work", "tmpdir": f"{BWRAP_ROOT}/tmp",
                         "runner": f"{BWRAP_ROOT}/grader/runner.py"}
            else:
                paths = {"submission": str(spec.submission_tree), "probe": str(spec.probe_dir),
                         "workdir": str(root / "work"), "tmpdir": str(root / "tmp"),
                         "runner": str(RUNTIME_DIR / "runner.py")}
            # The payload comes back on the runner's stdout, a pipe only this process and the runner hold.
            paths["result"] = "-"
            gpu = GpuUse(reason=self.device_choice(spec.gpu).reason)
            runner = paths.pop("runner")
            command = [sys.executable, "-I", runner, *runner_arguments(spec, gpu=gpu, cpu_clock="session", **paths)]
            if self.bwrap:
                command = self._bwrap_prefix(spec, root) + command
            return self._execute(command, spec, root, gpu)

    def _bwrap_prefix(self, spec: RunSpec, root: Path) -> list[str]:
        prefix = [self.bwrap, "--die-with-parent", "--unshare-all", "--new-session", "--ro-bind", "/", "/",
                  "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
        for interpreter in dict.fromkeys((sys.prefix, sys.base_prefix)):  # a venv under /tmp stays reachable
            prefix += ["--ro-bind", interpreter, interpreter]
        for hidden in self.masked_paths:
            prefix += ["--tmpfs", str(hidden)]
        prefix += ["--ro-bind", str(spec.submission_tree), f"{BWRAP_ROOT}/submission",
                   "--ro-bind", str(spec.probe_dir), f"{BWRAP_ROOT}/probe", "--ro-bind", str(RUNTIME_DIR),
                   f"{BWRAP_ROOT}/grader", "--bind", str(root / "work"), f"{BWRAP_ROOT}/work", "--chdir", f"{BWRAP_ROOT}/work"]
        return prefix

    def _execute(self, command: list[str], spec: RunSpec, root: Path, gpu: GpuUse) -> RunOutcome:
        limits = spec.limits
        environment = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "LANG": "C.UTF-8"}

        def apply_rlimits() -> None:
            memory = (limits.memory_mb + 512) * 1024 * 1024  # address space, not resident memory: leave room for mappings
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
            # Per process, a backstop above the run's CPU limit (time_s over all its processes, which the runner
            # enforces): never the limit that stops a run.
            cpu = int(limits.time_s * max(limits.cpus, 1)) + 10
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
            size = limits.workspace_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

        process = subprocess.Popen(command, cwd=root / "work", env=environment, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True,
                                   preexec_fn=apply_rlimits)
        killed_for_time = False
        try:
            stdout, _ = process.communicate(timeout=spec.outer_wall_limit_s)
        except subprocess.TimeoutExpired:
            killed_for_time = True
            os.killpg(process.pid, signal.SIGKILL)
            stdout, _ = process.communicate()
        except BaseException:  # the grader is being interrupted: the run must not outlive it
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
        return parse_payload(stdout, killed_for_time=killed_for_time, oom_killed=False, gpu=gpu)


def _bwrap_works(bwrap: str) -> bool:
    probe = subprocess.run([bwrap, "--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "true"],
                           capture_output=True, timeout=20)
    return probe.returncode == 0
