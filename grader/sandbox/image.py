"""The sandbox image: its tag is a hash of the files in sandbox/ that define it; built by sandbox/build.sh when missing.

The build needs no container registry (debootstrap from Debian's mirror + a pip wheelhouse + `docker import`),
and runs as root on the machine whose Docker engine will run the sandbox.

The CUDA image (`grader sandbox build --gpu`) comes from the same definition with one change: torch's CPU build is
replaced by the CUDA build of the same version (`cuda_definition`). Its files are written to a folder of their own
and built by the same build.sh; it has its own hash, so its own tag. The build needs no GPU, and the image runs on a
host without one (torch then falls back to the CPU).

Every image is labelled with what its torch can do (grader.sandbox.gpu.ImageCapabilities), read from a run of its
own python right after the build, or once for an image built before the labels existed.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import re
import subprocess
import sys
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import docker
import docker.errors

from grader.sandbox.gpu import ImageCapabilities

IMAGE_NAME = "grader-sandbox"
# The files whose contents decide what ends up in the image; other files in sandbox/ (e.g. start-dockerd.sh) do not.
IMAGE_INPUTS = ("build.sh", "requirements.txt", "Dockerfile")
BUILD_LOG_TAIL_LINES = 40
CPU_TORCH_PIN = re.compile(r"^torch==(?P<version>[^+\s]+)\+cpu$", re.MULTILINE)
CPU_WHEEL_INDEX = "https://download.pytorch.org/whl/cpu"
CUDA_WHEEL_INDEX = "https://download.pytorch.org/whl/{cuda}"
CAPABILITIES_SCRIPT = "import json, torch; print(json.dumps({'torch': torch.__version__, 'cuda': torch.version.cuda}))"

Progress = Callable[[str], None]


class ImageBuildError(RuntimeError):
    """sandbox/build.sh failed, or its image did not reach the engine the caller asked about."""


def image_definition(build_dir: Path, cuda: str | None = None) -> dict[str, bytes]:
    """The files that define the image, by name: sandbox/'s own, or their CUDA variant (`cuda`: e.g. "cu128")."""
    files = {name: (build_dir / name).read_bytes() for name in IMAGE_INPUTS}
    return cuda_definition(files, cuda) if cuda else files


def cuda_definition(files: dict[str, bytes], cuda: str) -> dict[str, bytes]:
    """The same definition with torch's CUDA build `cuda` of the same version; every other pin stays as it is."""
    requirements = files["requirements.txt"].decode()
    pins = CPU_TORCH_PIN.findall(requirements)
    if len(pins) != 1:
        raise ImageBuildError("sandbox/requirements.txt must pin exactly one CPU build of torch (torch==X+cpu) for the "
                              f"CUDA image to replace; found {len(pins)}")
    header = (f"# The CUDA image's requirements: sandbox/requirements.txt with torch's {cuda} build "
              "(grader.sandbox.image.cuda_definition).\n")
    cuda_requirements = header + CPU_TORCH_PIN.sub(lambda pin: f"torch=={pin['version']}+{cuda}", requirements)
    dockerfile = files["Dockerfile"].decode().replace(CPU_WHEEL_INDEX, CUDA_WHEEL_INDEX.format(cuda=cuda))
    return {**files, "requirements.txt": cuda_requirements.encode(), "Dockerfile": dockerfile.encode()}


def definition_hash(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in IMAGE_INPUTS:
        content = files[name]
        # Name and length framing: moving bytes from one file to another changes the hash.
        digest.update(f"{name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()[:12]


def image_inputs_hash(build_dir: Path) -> str:
    return definition_hash(image_definition(build_dir))


def image_tag(build_dir: Path, cuda: str | None = None) -> str:
    suffix = f"-{cuda}" if cuda else ""
    return f"{IMAGE_NAME}:{definition_hash(image_definition(build_dir, cuda))}{suffix}"


def ensure_image(
    client: docker.DockerClient,
    build_dir: Path,
    cache_dir: Path,
    progress: Progress | None = None,
    cuda: str | None = None,
) -> str:
    """Return the tag of the sandbox image for build_dir (its CUDA variant with `cuda`), building it first when the
    engine lacks it, and labelling it with its capabilities when it has none."""
    report = progress or (lambda _line: None)
    tag = image_tag(build_dir, cuda)
    if _engine_has(client, tag) and _capabilities(client, tag) is not None:
        report(f"sandbox image {tag} is present")
        return tag
    if cuda:
        cache_dir = cache_dir / cuda  # a wheelhouse and a lock of its own: the CUDA wheels are several GB
    cache_dir.mkdir(parents=True, exist_ok=True)
    # Workers that start together must not run two builds; the second one finds the image after the first.
    with _exclusive(cache_dir / "build.lock") as lock_fd:
        if not _engine_has(client, tag):
            report(f"building sandbox image {tag} (several minutes{', several GB of CUDA wheels' if cuda else ''})")
            source = _written_definition(image_definition(build_dir, cuda), cache_dir / "definition") if cuda \
                else build_dir
            _run_build_script(source, tag, cache_dir, lock_fd, report, _cuda_wheel_environment(cuda) if cuda else {})
            if not _engine_has(client, tag):
                raise ImageBuildError(
                    f"build.sh finished but the engine at {client.api.base_url} has no {tag}: "
                    "the docker CLI used by build.sh talks to a different engine (check DOCKER_HOST)"
                )
        if _capabilities(client, tag) is None:
            report(f"recording what {tag}'s torch can do in its labels")
            record_capabilities(client, tag)
    return tag


def _engine_has(client: docker.DockerClient, tag: str) -> bool:
    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return True


def _capabilities(client: docker.DockerClient, tag: str) -> ImageCapabilities | None:
    return ImageCapabilities.from_labels(client.images.get(tag).labels)


def record_capabilities(client: docker.DockerClient, tag: str) -> ImageCapabilities:
    """Ask the image's own torch what it is (no GPU needed), and label the image with it under the same tag."""
    try:
        output = client.containers.run(tag, ["python3", "-I", "-c", CAPABILITIES_SCRIPT], network_disabled=True,
                                       network_mode="none", remove=True, stdout=True, stderr=False)
        found = json.loads(output.decode().strip().splitlines()[-1])
        capabilities = ImageCapabilities(torch=str(found["torch"]), cuda=found["cuda"] and str(found["cuda"]))
        labels = " ".join(f"{name}={json.dumps(value)}" for name, value in capabilities.labels().items())
        # A LABEL-only build on the local image: a new image id with the same layers, under the same tag.
        client.images.build(fileobj=io.BytesIO(f"FROM {tag}\nLABEL {labels}\n".encode()), tag=tag, rm=True,
                            pull=False, network_mode="none")
    except (docker.errors.DockerException, ValueError, KeyError, IndexError) as error:
        raise ImageBuildError(f"could not record what {tag}'s torch can do: {error}") from error
    return capabilities


def _written_definition(files: dict[str, bytes], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(content)
    return folder


def configured_extra_indexes(python: str = sys.executable) -> list[str]:
    """The extra package indexes the pip of `python` is configured with (files and environment)."""
    listed = subprocess.run([python, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False).stdout
    found = re.findall(r"^\S*extra-index-url='(.*)'$", listed, flags=re.MULTILINE)
    return [url for value in found for url in value.split()]


def _cuda_wheel_environment(cuda: str) -> dict[str, str]:
    """pip's wheelhouse download also searches PyTorch's index of the CUDA build, beside the indexes configured on
    this host (an environment variable replaces the configured value, so those are carried over)."""
    indexes = dict.fromkeys([*configured_extra_indexes(), CUDA_WHEEL_INDEX.format(cuda=cuda)])
    return {"PIP_EXTRA_INDEX_URL": " ".join(indexes)}


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[int]:
    """Hold an exclusive lock on lock_path; yields the descriptor that holds it."""
    with lock_path.open("w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        yield lock_file.fileno()


def _run_build_script(build_dir: Path, tag: str, cache_dir: Path, lock_fd: int, report: Progress,
                      environment: dict[str, str]) -> None:
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
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1, pass_fds=(lock_fd,),
        env={**os.environ, **environment},
    ) as build:
        assert build.stdout is not None
        for line in build.stdout:
            line = line.rstrip("\n")
            tail.append(line)
            report(line)
    if build.returncode != 0:
        raise ImageBuildError(f"{' '.join(command)} exited with {build.returncode}:\n" + "\n".join(tail))
