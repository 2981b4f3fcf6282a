"""Chooses the sandbox backend from the settings: docker when asked (or when an engine answers), else local."""

from __future__ import annotations

from collections.abc import Callable

from grader.sandbox.base import SandboxBackend, SandboxError
from grader.sandbox.docker_backend import DockerBackend
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
            from grader.sandbox.image import ensure_image

            image = settings.sandbox_image or ensure_image(client, settings.sandbox_dir,
                                                           settings.data_dir / "sandbox-build", progress)
            return DockerBackend(client, image)
    masked = (settings.assignments_dir, settings.rubrics_dir, settings.references_dir, settings.data_dir)
    return LocalBackend(masked_paths=masked)
