"""Chooses the sandbox backend from the settings: docker when asked (or when an engine answers), else local.

On a host with a GPU, Docker runs the CUDA image when `grader sandbox build --gpu` built it, else the CPU image (and
each result says why it got no GPU); the CUDA image is never built unasked, since its wheels are several GB.
"""

from __future__ import annotations

from collections.abc import Callable

from grader.sandbox.base import SandboxBackend, SandboxError
from grader.sandbox.docker_backend import DockerBackend
from grader.sandbox.gpu import GpuSlots, host_has_gpu, parse_slots
from grader.sandbox.local_backend import LocalBackend
from grader.settings import Settings


def docker_client(settings: Settings):
    import docker

    client = docker.DockerClient(base_url=settings.docker_base_url) if settings.docker_base_url else docker.from_env()
    client.ping()
    return client


def select_backend(settings: Settings, kind: str | None = None,
                   progress: Callable[[str], None] | None = None) -> SandboxBackend:
    """`kind` overrides settings.sandbox; "auto" takes docker when an engine answers, else the (weaker) local one."""
    wanted = kind or settings.sandbox
    if wanted in ("docker", "auto"):
        try:
            client = docker_client(settings)
        except Exception as error:  # the SDK raises several unrelated types when no engine answers
            if wanted == "docker":
                raise SandboxError(f"no Docker engine answers ({error}); start one (sandbox/start-dockerd.sh) "
                                   "or use --sandbox local") from error
        else:
            gpu_host = settings.sandbox_device != "cpu" and host_has_gpu(client.info().get("Runtimes", {}))
            image = settings.sandbox_image or sandbox_image(client, settings, gpu_host, progress)
            slots = GpuSlots(parse_slots(settings.gpu_slots), settings.data_dir / "gpu-slots") if gpu_host else None
            return DockerBackend(client, image, gpu_slots=slots, device_policy=settings.sandbox_device,
                                 progress=progress)
    masked = (settings.assignments_dir, settings.rubrics_dir, settings.references_dir, settings.data_dir)
    return LocalBackend(masked_paths=masked)


def sandbox_image(client, settings: Settings, gpu_host: bool, progress: Callable[[str], None] | None) -> str:
    """The CUDA image on a GPU host that has it, else the CPU image (built when missing)."""
    from docker.errors import ImageNotFound

    from grader.sandbox.image import ensure_image, image_tag

    cache_dir = settings.data_dir / "sandbox-build"
    if gpu_host:
        try:
            client.images.get(image_tag(settings.sandbox_dir, settings.sandbox_cuda))
        except ImageNotFound:
            pass
        else:
            return ensure_image(client, settings.sandbox_dir, cache_dir, progress, cuda=settings.sandbox_cuda)
    return ensure_image(client, settings.sandbox_dir, cache_dir, progress)
