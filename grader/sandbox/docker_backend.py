"""Docker sandbox, through the docker SDK against a real engine.

Settings and why:
- network disabled: no exfiltration, no downloads, no reaching the grader's services;
- memory (swap = memory), CPU quota, pids limit: one submission cannot starve the host or fork-bomb it;
- read-only root filesystem, size-capped tmpfs for /workspace (the working directory) and /tmp: nothing persists, disk cannot be filled;
- two identities: the runner and the trusted driver run as root with only SETUID, SETGID, KILL and DAC_OVERRIDE (to
  start the student's process as another uid, stop it, and read the hidden probe and write the result folder that
  the student's uid cannot); the student's code runs as uid 65534 with no capabilities at all; no-new-privileges;
- only the submission (read-only), the probe (read-only, readable by the driver alone), the runtime (read-only) and
  the result folder (writable by the runner alone) are mounted: the judge, the rubric and the reference solutions
  are never in the container;
- a wall-clock limit beyond the runner's own (its wall cap plus a grace): the container is killed and reported as a
  timeout;
- a GPU only when the host, the image and the assignment allow it (grader/sandbox/gpu.py), and then exactly one
  device id from the host's GPU slots, held until the container is gone;
- the container is removed in a `finally`, so an interrupted grader leaves nothing running.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import docker
import requests
from docker.errors import DockerException, ImageNotFound
from docker.types import DeviceRequest, Mount, Ulimit

from grader.domain.result import GpuUse
from grader.sandbox.base import (
    RUNTIME_DIR,
    GpuRequest,
    RunOutcome,
    RunSpec,
    SandboxError,
    parse_payload,
    runner_arguments,
)
from grader.sandbox.gpu import (
    DeviceChoice,
    DevicePolicy,
    GpuSlot,
    GpuSlots,
    GpuUnavailable,
    ImageCapabilities,
    choose_device,
    gpu_is_required,
    host_has_gpu,
)
from grader.sandbox.runtime.runner import PAYLOAD_FILE

DRIVER_USER = "0:0"
DRIVER_CAPABILITIES = ["SETUID", "SETGID", "KILL", "DAC_OVERRIDE"]
STUDENT_UID = 65534
# A path the image does not have, and not the container's working_dir: Docker copies an existing (or pre-created
# working) folder's owner and mode onto a tmpfs mounted over it, which would leave it unwritable for the sandbox
# user. The runner starts the student's process in it.
WORKSPACE = "/workspace"
GPU_SLOT_LABEL = "grader.gpu-slot"


class DockerBackend:
    kind = "docker"
    isolation = ("docker: no network, read-only root, tmpfs workspace, the student's code in its own process as a "
                 "non-root uid with no capabilities, no-new-privileges, memory/CPU/pids limits")

    def __init__(self, client: docker.DockerClient, image: str, gpu_slots: GpuSlots | None = None,
                 device_policy: DevicePolicy = "auto", progress: Callable[[str], None] | None = None) -> None:
        self.client = client
        self.image = image
        self.gpu_slots = gpu_slots  # None: this grader passes no GPU, whatever the host has
        self.device_policy = device_policy
        self.progress = progress or (lambda _line: None)
        self._has_gpu: bool | None = None
        self._capabilities: ImageCapabilities | None = None
        self._lock = threading.Lock()

    @property
    def labels(self) -> dict[str, str]:
        """Every sandbox container is labelled, and by the grader process that started it, so leftovers can be found."""
        return {"grader.sandbox": "1", "grader.pid": str(os.getpid())}

    def describe(self, spec: RunSpec) -> dict:
        choice = self.device_choice(spec.gpu)
        return {"kind": self.kind, "isolation": self.isolation, "image": self.image,
                "gpu": GpuUse(device=choice.device, reason=choice.reason),
                "limits": spec.limits.for_device(choice.device).effective()}

    def host_has_gpu(self) -> bool:
        with self._lock:
            if self._has_gpu is None:
                self._has_gpu = host_has_gpu(self.client.info().get("Runtimes", {}))
            return self._has_gpu

    def image_capabilities(self) -> ImageCapabilities | None:
        """Read once from the image's labels (grader.sandbox.image records them when it builds the image)."""
        with self._lock:
            if self._capabilities is None:
                try:
                    labels = self.client.images.get(self.image).labels
                except DockerException:
                    return None  # a missing image is reported when its container is created
                self._capabilities = ImageCapabilities.from_labels(labels)
            return self._capabilities

    def device_choice(self, request: GpuRequest) -> DeviceChoice:
        choice = choose_device(request, self.device_policy, self.host_has_gpu(), self.image_capabilities())
        if choice.device == "cuda" and self.gpu_slots is None:
            return DeviceChoice("cpu", "host has a GPU but this grader was given no GPU slots (GRADER_GPU_SLOTS)")
        return choice

    def run(self, spec: RunSpec) -> RunOutcome:
        choice = self.device_choice(spec.gpu)
        if gpu_is_required(spec.gpu, self.device_policy) and choice.device != "cuda":
            raise GpuUnavailable(f"this run needs a GPU, but {choice.reason}")
        spec = dataclasses.replace(spec, limits=spec.limits.for_device(choice.device))
        if choice.device == "cpu" or self.gpu_slots is None:
            return self._run(spec, GpuUse(reason=choice.reason), None)
        with self.gpu_slots.hold(self._waiting_for_a_slot) as slot:
            self._remove_orphans_of(slot)
            gpu = GpuUse(device="cuda", device_id=slot.device_id, reason=choice.reason,
                         memory_fraction=slot.memory_fraction if slot.memory_fraction < 1 else None)
            return self._run(spec, gpu, slot)

    def _waiting_for_a_slot(self) -> None:
        self.progress("every GPU slot is taken: waiting for one")

    def _remove_orphans_of(self, slot: GpuSlot) -> None:
        """A container still labelled with a slot this process now holds was left by a holder that died (a killed
        worker skips its `finally`): it would keep the GPU busy, so it goes."""
        try:
            for orphan in self.client.containers.list(all=True, filters={"label": f"{GPU_SLOT_LABEL}={slot.name}"}):
                orphan.remove(force=True)
        except DockerException as error:
            raise SandboxError(f"docker could not clear GPU slot {slot.name}: {error}") from error

    def _run(self, spec: RunSpec, gpu: GpuUse, slot: GpuSlot | None) -> RunOutcome:
        # The probe data and the submission are copied into a folder only this run uses, readable by the sandbox user.
        with tempfile.TemporaryDirectory(prefix="grader-docker-") as scratch:
            staged = Path(scratch)
            shutil.copytree(spec.submission_tree, staged / "submission")
            shutil.copytree(spec.probe_dir, staged / "probe")
            shutil.copytree(RUNTIME_DIR, staged / "runtime", ignore=shutil.ignore_patterns("__pycache__"))
            (staged / "result").mkdir()
            for path in [staged, *staged.rglob("*")]:
                path.chmod(0o755 if path.is_dir() else 0o644)
            # The hidden inputs and the result folder: for the driver's root (DAC_OVERRIDE) only, not the student's uid.
            for path in [staged / "probe", *(staged / "probe").rglob("*"), staged / "result"]:
                path.chmod(0o700 if path.is_dir() else 0o600)
            command = ["python3", "-I", "/grader/runner.py", *runner_arguments(
                spec, submission="/submission", probe="/probe", result="/result", workdir=WORKSPACE, tmpdir="/tmp",
                gpu=gpu, cpu_clock="cgroup", student_uid=STUDENT_UID)]
            container = self._create(command, staged, spec, slot)
            try:
                return self._wait(container, spec.outer_wall_limit_s, gpu, staged / "result" / PAYLOAD_FILE)
            finally:
                try:
                    container.remove(force=True)
                except DockerException:
                    pass

    def _create(self, command: list[str], staged: Path, spec: RunSpec, slot: GpuSlot | None):
        limits = spec.limits
        tmpfs_size = f"{limits.workspace_mb}m"
        try:
            return self.client.containers.create(
                self.image, command=command, user=DRIVER_USER, working_dir="/", network_disabled=True,
                network_mode="none", read_only=True, cap_drop=["ALL"], cap_add=DRIVER_CAPABILITIES,
                security_opt=["no-new-privileges"],
                mem_limit=f"{limits.memory_mb}m", memswap_limit=f"{limits.memory_mb}m",
                nano_cpus=int(limits.cpus * 1e9), pids_limit=limits.pids, ipc_mode="private",
                tmpfs={WORKSPACE: f"rw,nosuid,nodev,size={tmpfs_size},mode=1777",
                       "/tmp": f"rw,nosuid,nodev,size={tmpfs_size},mode=1777"},
                mounts=[Mount("/submission", str(staged / "submission"), type="bind", read_only=True),
                        Mount("/probe", str(staged / "probe"), type="bind", read_only=True),
                        Mount("/grader", str(staged / "runtime"), type="bind", read_only=True),
                        Mount("/result", str(staged / "result"), type="bind", read_only=False)],
                ulimits=[Ulimit(name="core", soft=0, hard=0), Ulimit(name="nofile", soft=1024, hard=1024)],
                environment={"HOME": WORKSPACE}, detach=True, stdin_open=False, tty=False,
                log_config={"type": "json-file", "config": {"max-size": "1m", "max-file": "1"}},
                device_requests=[DeviceRequest(device_ids=[slot.device_id], capabilities=[["gpu"]])] if slot
                else None,
                labels={**self.labels, GPU_SLOT_LABEL: slot.name} if slot else self.labels,
            )
        except ImageNotFound as error:
            raise SandboxError(f"sandbox image {self.image} is missing; build it with 'grader sandbox build'") from error
        except DockerException as error:
            raise SandboxError(f"docker could not create the sandbox: {error}") from error

    def _wait(self, container, wall_clock_s: float, gpu: GpuUse, payload: Path) -> RunOutcome:
        killed_for_time = False
        try:
            container.start()
            container.wait(timeout=wall_clock_s)
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
            killed_for_time = True
            try:
                container.kill()
            except DockerException:
                pass
        except DockerException as error:
            raise SandboxError(f"docker failed while running the sandbox: {error}") from error
        try:
            container.reload()
            oom_killed = bool(container.attrs.get("State", {}).get("OOMKilled"))
        except DockerException as error:
            raise SandboxError(f"docker failed while reading the sandbox's result: {error}") from error
        try:
            return parse_payload(payload.read_bytes() if payload.is_file() else b"", killed_for_time=killed_for_time,
                                 oom_killed=oom_killed, gpu=gpu)
        except SandboxError as error:
            raise SandboxError(f"{error} (the sandbox's last lines: {self._log_tail(container)!r})") from error

    @staticmethod
    def _log_tail(container) -> str:
        try:
            return container.logs(tail=5).decode("utf-8", errors="replace")[-500:]
        except DockerException:
            return ""
