"""GPUs in the Docker sandbox: what an image can do, which device a run gets and why, and the host's GPU slots.

A run gets `cuda` only when the host has a GPU, the image's torch is a CUDA build (its labels say so) and the
assignment asks for one; otherwise `cpu`, and the reason goes into the result. A GPU run holds one slot (one device
id) for as long as its container exists. A slot is an exclusive lock on a file under the data folder: every grading
process of the host that uses that folder shares the slots, and the kernel releases a lock when its holder dies,
whatever killed it.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from grader.sandbox.base import GpuRequest, SandboxBackend, SandboxError

DevicePolicy = Literal["auto", "cpu", "cuda"]  # auto: as the assignment asks; cpu / cuda: every run (check-references)
TORCH_LABEL = "grader.torch"
CUDA_LABEL = "grader.cuda"
NO_CUDA = "none"
CPU_ONLY_IMAGE = "host has a GPU but the image is CPU-only: build it with --gpu"
NVIDIA_SMI_TIMEOUT_S = 30


class GpuUnavailable(SandboxError):
    """A run that must have a GPU cannot get one: an infra_error, never retried, never the student's fault."""


@dataclass(frozen=True)
class ImageCapabilities:
    """What the image's torch can do, recorded in its labels when it was built."""

    torch: str
    cuda: str | None  # the CUDA version torch was built for; None for a CPU build

    @classmethod
    def from_labels(cls, labels: dict[str, str] | None) -> ImageCapabilities | None:
        if not labels or TORCH_LABEL not in labels:
            return None
        cuda = labels.get(CUDA_LABEL, NO_CUDA)
        return cls(torch=labels[TORCH_LABEL], cuda=None if cuda == NO_CUDA else cuda)

    def labels(self) -> dict[str, str]:
        return {TORCH_LABEL: self.torch, CUDA_LABEL: self.cuda or NO_CUDA}


@dataclass(frozen=True)
class DeviceChoice:
    device: Literal["cpu", "cuda"]
    reason: str


def gpu_is_required(request: GpuRequest, policy: DevicePolicy) -> bool:
    return policy == "cuda" or (policy == "auto" and request == "required")


def choose_device(request: GpuRequest, policy: DevicePolicy, host_gpu: bool,
                  image: ImageCapabilities | None) -> DeviceChoice:
    """`cuda` only when the host has a GPU, the image can use it, and the assignment (or the policy) asks for one."""
    if policy == "cpu":
        return DeviceChoice("cpu", "the grader was told to use the CPU (--device cpu)")
    if policy == "auto" and request == "none":
        return DeviceChoice("cpu", "the assignment asks for no GPU")
    if not host_gpu:
        return DeviceChoice("cpu", "this host has no GPU (Docker lists no nvidia runtime; there is no nvidia-smi)")
    if image is None:
        return DeviceChoice("cpu", "host has a GPU but the image records no capabilities (no grader.torch label): "
                                   "rebuild it with 'grader sandbox build --gpu'")
    if image.cuda is None:
        return DeviceChoice("cpu", CPU_ONLY_IMAGE)
    return DeviceChoice("cuda", f"host has a GPU and the image's torch {image.torch} uses CUDA {image.cuda}")


def require_gpu(backend: SandboxBackend) -> None:
    """`GpuUnavailable`, saying why, unless the backend passes a GPU to a run that needs one. Asked before any work
    starts (`grader worker --gpu`, `grader check-references --device cuda`): a host that cannot pass one stops at once
    instead of failing every run."""
    choice = backend.device_choice("required")
    if choice.device != "cuda":
        raise GpuUnavailable(choice.reason)


def host_has_gpu(runtimes: dict) -> bool:
    """`runtimes`: the engine's `docker info` Runtimes."""
    return "nvidia" in runtimes or shutil.which("nvidia-smi") is not None


def query_host_gpus(field: str) -> list[str]:
    """One field of each of the host's GPUs (`index`, `name`, ...) as nvidia-smi reports it, in its order; raises
    OSError (no nvidia-smi) or SubprocessError (it failed or hung)."""
    listed = subprocess.run(["nvidia-smi", f"--query-gpu={field}", "--format=csv,noheader"], capture_output=True,
                            text=True, timeout=NVIDIA_SMI_TIMEOUT_S, check=True).stdout
    return [line.strip() for line in listed.splitlines() if line.strip()]


def host_gpu_ids() -> list[str]:
    """The host's GPUs as nvidia-smi numbers them (what Docker's device requests take)."""
    try:
        return query_host_gpus("index")
    except (OSError, subprocess.SubprocessError) as error:
        raise SandboxError(f"GRADER_GPU_SLOTS=all:N counts the GPUs with nvidia-smi, which failed ({error}); "
                           "name the device ids instead, e.g. GRADER_GPU_SLOTS=0,0,1") from error


def host_gpu_model() -> str:
    """The model name of the host's first GPU, which a `grader worker --gpu` records on its jobs; "GPU" when
    nvidia-smi cannot tell (the worker was told it has one)."""
    try:
        names = query_host_gpus("name")
    except (OSError, subprocess.SubprocessError):
        return "GPU"
    return names[0] if names else "GPU"


@dataclass(frozen=True)
class GpuSlot:
    device_id: str
    index: int  # among the slots of its device
    memory_fraction: float  # this grading's share of the device's memory: 1 / the device's slot count

    @property
    def name(self) -> str:
        return f"gpu{self.device_id}-slot{self.index}"


def parse_slots(spec: str, host_devices: Callable[[], list[str]] = host_gpu_ids) -> list[GpuSlot]:
    """`0,0,1`: two gradings at once on GPU 0, one on GPU 1; `all:2`: two on each of the host's GPUs. Slots are
    ordered so that gradings spread over the devices before two share one."""
    spec = spec.strip()
    if spec.startswith("all:"):
        count = spec.removeprefix("all:").strip()
        if not count.isdigit() or int(count) < 1:
            raise SandboxError(f"GRADER_GPU_SLOTS={spec!r}: after 'all:' comes the number of gradings per GPU, "
                               "e.g. all:2")
        ids = [device for device in host_devices() for _ in range(int(count))]
        if not ids:
            raise SandboxError("GRADER_GPU_SLOTS=all:N, but nvidia-smi lists no GPU on this host")
    else:
        ids = [part.strip() for part in spec.split(",")]
        if not all(part.isdigit() for part in ids):
            raise SandboxError(f"GRADER_GPU_SLOTS={spec!r}: give GPU numbers separated by commas, one per grading "
                               "at once (e.g. 0,0,1), or all:N")
    per_device = Counter(ids)
    slots = [GpuSlot(device, index, round(1 / per_device[device], 4))
             for device in dict.fromkeys(ids) for index in range(per_device[device])]
    return sorted(slots, key=lambda slot: slot.index)  # stable: the devices keep their order within each index


class GpuSlots:
    """The host's GPU slots: `hold()` waits for a free one and keeps it until the block ends, however it ends."""

    def __init__(self, slots: list[GpuSlot], lock_dir: Path, poll_s: float = 0.5) -> None:
        if not slots:
            raise SandboxError("no GPU slots: GRADER_GPU_SLOTS names no device")
        self.slots = slots
        self.lock_dir = lock_dir
        self.poll_s = poll_s

    @contextmanager
    def hold(self, waiting: Callable[[], None] | None = None) -> Iterator[GpuSlot]:
        """`waiting` is called once when every slot is taken and the grading has to wait."""
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        told = False
        while True:
            for slot in self.slots:
                handle = (self.lock_dir / f"{slot.name}.lock").open("a")
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    handle.close()
                    continue
                try:
                    yield slot
                finally:
                    handle.close()  # closing the only descriptor releases the lock
                return
            if waiting is not None and not told:
                waiting()
                told = True
            time.sleep(self.poll_s)  # a short sleep, not a blocking lock: a cancelled grading stops waiting at once
