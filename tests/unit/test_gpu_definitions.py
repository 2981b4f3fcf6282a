"""The CUDA image's definition (built here without downloading a wheel) and the time budgets per device."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from grader import course_files
from grader.domain.assignment import Limits
from grader.sandbox.base import RUNTIME_DIR
from grader.sandbox.image import (
    ImageBuildError,
    _cuda_wheel_environment,
    cuda_definition,
    ensure_image,
    image_definition,
    image_tag,
)
from grader.settings import Settings

SETTINGS = Settings()


def requirement_lines(content: bytes) -> list[str]:
    return [line for line in content.decode().splitlines() if line and not line.startswith("#")]


def test_cuda_definition_pins_the_cuda_build_of_the_same_torch_and_nothing_else_changes() -> None:
    cpu = image_definition(SETTINGS.sandbox_dir)
    cuda = image_definition(SETTINGS.sandbox_dir, "cu128")
    cpu_lines, cuda_lines = requirement_lines(cpu["requirements.txt"]), requirement_lines(cuda["requirements.txt"])
    (cpu_torch,) = [line for line in cpu_lines if line.startswith("torch==")]
    assert cpu_torch.endswith("+cpu")
    assert [line for line in cuda_lines if line.startswith("torch==")] == [cpu_torch.replace("+cpu", "+cu128")]
    assert [line for line in cpu_lines if line != cpu_torch] == [
        line for line in cuda_lines if not line.startswith("torch==")
    ]
    assert cuda["build.sh"] == cpu["build.sh"]
    assert b"download.pytorch.org/whl/cu128" in cuda["Dockerfile"] and b"/whl/cpu" not in cuda["Dockerfile"]


def test_cuda_image_has_its_own_tag_and_the_cpu_tag_stays() -> None:
    cpu_tag, cuda_tag = image_tag(SETTINGS.sandbox_dir), image_tag(SETTINGS.sandbox_dir, "cu128")
    assert cuda_tag.startswith("grader-sandbox:") and cuda_tag.endswith("-cu128")
    assert cuda_tag.removesuffix("-cu128") != cpu_tag
    assert image_tag(SETTINGS.sandbox_dir, "cu126") not in (cpu_tag, cuda_tag)


def test_cuda_wheels_come_from_pytorchs_index_beside_the_configured_ones() -> None:
    indexes = _cuda_wheel_environment("cu128")["PIP_EXTRA_INDEX_URL"].split()
    assert indexes[-1] == "https://download.pytorch.org/whl/cu128"


def test_requirements_without_a_cpu_torch_cannot_make_a_cuda_image() -> None:
    files = image_definition(SETTINGS.sandbox_dir)
    without = {**files, "requirements.txt": b"numpy==2.4.6\ntorch==2.13.0\n"}
    with pytest.raises(ImageBuildError, match=r"exactly one CPU build of torch \(torch==X\+cpu\)"):
        cuda_definition(without, "cu128")


def test_gpu_limits_replace_the_time_and_budgets_on_a_gpu_only() -> None:
    limits = Limits(
        time_s=240, budgets_s={"training": 40, "short": 2}, gpu={"time_s": 300, "budgets_s": {"training": 60}}
    )
    assert limits.for_device("cpu") == limits
    on_gpu = limits.for_device("cuda")
    assert (on_gpu.time_s, on_gpu.budgets_s) == (300, {"training": 60, "short": 2})
    assert on_gpu.effective()["budget_training_s"] == 60


def test_a_gpu_budget_without_its_cpu_value_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"gpu.budgets_s names \['training'\], which limits.budgets_s lacks"):
        Limits(gpu={"budgets_s": {"training": 60}})


@pytest.mark.parametrize("assignment_id, budget", [("p1", "training"), ("p2", "fine_tune")])
def test_course_probes_find_their_budgets_in_assignment_yaml(assignment_id: str, budget: str) -> None:
    limits = course_files.load_assignment(SETTINGS, assignment_id).limits
    assert budget in limits.budgets_s
    probe_folder = SETTINGS.assignments_dir / assignment_id / "hidden_tests" / "probe"
    probe = "".join(module.read_text() for module in sorted(probe_folder.glob("*.py")))
    assert f'gp.budget("{budget}")' in probe


def probe_budget(budgets: str | None, name: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key != "GRADER_BUDGETS"}
    if budgets is not None:
        environment["GRADER_BUDGETS"] = budgets
    return subprocess.run(
        [sys.executable, "-c", f"import grader_probe; print(grader_probe.budget({name!r}))"],
        cwd=RUNTIME_DIR,
        env={**environment, "PYTHONPATH": str(RUNTIME_DIR)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_probe_reads_the_budget_the_runner_passed() -> None:
    assert probe_budget('{"training": 60.0}', "training").stdout.strip() == "60.0"


def test_probe_asking_for_an_unknown_budget_says_where_to_add_it() -> None:
    failed = probe_budget("{}", "training")
    assert failed.returncode != 0
    assert "assignment.yaml gives no time budget 'training': add it under limits.budgets_s" in failed.stderr


def test_the_run_time_cap_holds_on_a_gpu_too() -> None:
    from grader.domain.assignment import Assignment
    from grader.pipeline import Grader

    assignment = Assignment(id="p1", title="capped", limits=Limits(time_s=240, gpu={"time_s": 600}))
    capped = Grader(SETTINGS.model_copy(update={"run_time_cap_s": 10}), backend=None).run_limits(assignment)
    assert (capped.for_device("cpu").time_s, capped.for_device("cuda").time_s) == (10, 10)


class NoImages:
    """An engine that has no image yet: ensure_image must build."""

    def __init__(self) -> None:
        self.images = self

    def get(self, name: str):
        from docker.errors import ImageNotFound

        raise ImageNotFound(name)


def test_gpu_build_runs_the_same_build_script_on_the_cuda_definition(tmp_path: Path) -> None:
    """The real build stops here (no download): what build.sh would install and where pip would look."""
    build_dir = tmp_path / "sandbox"
    shutil.copytree(SETTINGS.sandbox_dir, build_dir)
    (build_dir / "build.sh").write_text(
        'here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"\n'
        'grep "^torch==" "$here/requirements.txt"\n'
        'echo "index: $PIP_EXTRA_INDEX_URL"\nexit 3\n'
    )
    with pytest.raises(ImageBuildError) as failed:
        ensure_image(NoImages(), build_dir, tmp_path / "cache", cuda="cu128")
    output = str(failed.value)
    assert "--tag " + image_tag(build_dir, "cu128") in output
    assert "torch==2.13.0+cu128" in output and "+cpu" not in output
    assert "index: " in output and "https://download.pytorch.org/whl/cu128" in output
    written = tmp_path / "cache" / "cu128" / "definition"
    assert (written / "build.sh").read_text() == (build_dir / "build.sh").read_text()
