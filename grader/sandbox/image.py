"""The sandbox image: its tag is a hash of the files in sandbox/ that define it; built by sandbox/build.sh when missing.

The build needs no container registry (debootstrap from Debian's mirror + a pip wheelhouse + `docker import`),
and runs as root on the machine whose Docker engine will run the sandbox.
"""

from __future__ import annotations

import fcntl
import hashlib
import subprocess
import sys
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import docker
import docker.errors

IMAGE_NAME = "grader-sandbox"
# The files whose contents decide what ends up in the image; other files in sandbox/ (e.g. start-dockerd.sh) do not.
IMAGE_INPUTS = ("build.sh", "requirements.txt", "Dockerfile")
BUILD_LOG_TAIL_LINES = 40

Progress = Callable[[str], None]


class ImageBuildError(RuntimeError):
    """sandbox/build.sh failed, or its image did not reach the engine the caller asked about."""


def image_inputs_hash(build_dir: Path) -> str:
    digest = hashlib.sha256()
    for name in IMAGE_INPUTS:
        content = (build_dir / name).read_bytes()
        # Name and length framing: moving bytes from one file to another changes the hash.
        digest.update(f"{name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()[:12]


def image_tag(build_dir: Path) -> str:
    return f"{IMAGE_NAME}:{image_inputs_hash(build_dir)}"


def ensure_image(
    client: docker.DockerClient,
    build_dir: Path,
    cache_dir: Path,
    progress: Progress | None = None,
) -> str:
    """Return the tag of the sandbox image for build_dir, building it first when the engine lacks it."""
    report = progress or (lambda _line: None)
    tag = image_tag(build_dir)
    if _engine_has(client, tag):
        report(f"sandbox image {tag} is present")
        return tag
    cache_dir.mkdir(parents=True, exist_ok=True)
    # Workers that start together must not run two builds; the second one finds the image after the first.
    with _exclusive(cache_dir / "build.lock") as lock_fd:
        if _engine_has(client, tag):
            report(f"sandbox image {tag} is present")
            return tag
        report(f"building sandbox image {tag} (several minutes)")
        _run_build_script(build_dir, tag, cache_dir, lock_fd, report)
    if not _engine_has(client, tag):
        raise ImageBuildError(
            f"build.sh finished but the engine at {client.api.base_url} has no {tag}: "
            "the docker CLI used by build.sh talks to a different engine (check DOCKER_HOST)"
        )
    return tag


def _engine_has(client: docker.DockerClient, tag: str) -> bool:
    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return True


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[int]:
    """Hold an exclusive lock on lock_path; yields the descriptor that holds it."""
    with lock_path.open("w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        yield lock_file.fileno()


def _run_build_script(build_dir: Path, tag: str, cache_dir: Path, lock_fd: int, report: Progress) -> None:
    command = [
        "bash",
        str(build_dir / "build.sh"),
        "--tag",
        tag,
        "--cache-dir",
        str(cache_dir),
        # This interpreter's pip (and its config) fills the wheelhouse.
        "--python",
        sys.executable,
    ]
    tail: deque[str] = deque(maxlen=BUILD_LOG_TAIL_LINES)
    # build.sh inherits the lock: when this process dies first (say, a test's timeout), the orphaned build still
    # holds it, so the next caller waits for that build instead of starting a second one beside it.
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1, pass_fds=(lock_fd,)
    ) as build:
        assert build.stdout is not None
        for line in build.stdout:
            line = line.rstrip("\n")
            tail.append(line)
            report(line)
    if build.returncode != 0:
        raise ImageBuildError(f"{' '.join(command)} exited with {build.returncode}:\n" + "\n".join(tail))
