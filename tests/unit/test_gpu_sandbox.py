"""GPU grading without a GPU: a fake Docker engine that reports the nvidia runtime, the image's capability labels
deciding the device, one device id per grading from the host's slots, slots freed however a run ends, and
`gpu: required` without a usable GPU as an infra_error that says why."""

from __future__ import annotations

import fcntl
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import requests
from docker.errors import ImageNotFound

from grader.domain.assignment import Limits
from grader.domain.result import GpuUse
from grader.pipeline import Grader
from grader.sandbox.base import RunOutcome, RunSpec, SandboxError
from grader.sandbox.docker_backend import GPU_SLOT_LABEL, DockerBackend
from grader.sandbox.gpu import (
    CPU_ONLY_IMAGE,
    GpuSlot,
    GpuSlots,
    GpuUnavailable,
    ImageCapabilities,
    parse_slots,
    require_gpu,
)
from grader.sandbox.runtime.runner import write_payload
from grader.settings import Settings

CPU_IMAGE = ImageCapabilities(torch="2.13.0+cpu", cuda=None)
CUDA_IMAGE = ImageCapabilities(torch="2.13.0+cu128", cuda="12.8")
FIXTURE_COURSE = Path(__file__).resolve().parents[1] / "fixtures" / "course"


class FakeContainer:
    """Ends as `ending` says: a finished run (a payload in the result folder), a wall-clock timeout, an OOM kill, or
    an interruption of the grader while it waits (Ctrl-C, a cancelled job)."""

    def __init__(self, engine: "FakeEngine", options: dict, ending: str) -> None:
        self.engine, self.options, self.ending = engine, options, ending
        self.attrs: dict = {"State": {"OOMKilled": False}}
        self.removed = False

    def start(self) -> None:
        self.engine.slot_held_while_running.append(self.engine.slot_lock_held())

    def wait(self, timeout: float) -> dict:
        if self.ending == "timeout":
            raise requests.exceptions.ReadTimeout("wall clock")
        if self.ending == "interrupted":
            raise KeyboardInterrupt
        if self.ending == "oom":
            self.attrs["State"]["OOMKilled"] = True
            return {"StatusCode": 137}
        result = next(m["Source"] for m in self.options["mounts"] if m["Target"] == "/result")
        write_payload(
            result,
            {
                "returncode": 0,
                "timed_out": False,
                "duration_s": 0.1,
                "oom_kills": 0,
                "stdout": "",
                "stderr": "",
                "output_truncated": False,
                "refused_files": [],
            },
            {"_done.json": b'{"done": true}'},
        )
        return {"StatusCode": 0}

    def kill(self) -> None:
        pass

    def reload(self) -> None:
        pass

    def logs(self, tail: int) -> bytes:
        return b""

    def remove(self, force: bool) -> None:
        self.removed = True
        self.engine.live.remove(self)


class FakeEngine:
    """The parts of docker.DockerClient the Docker backend uses."""

    def __init__(self, runtimes: dict, labels: dict | None, lock_dir: Path | None = None, ending: str = "done") -> None:
        self.runtimes, self.labels, self.lock_dir, self.ending = runtimes, labels, lock_dir, ending
        self.created: list[FakeContainer] = []
        self.live: list[FakeContainer] = []
        self.slot_held_while_running: list[bool] = []
        self.images = self
        self.containers = self

    def info(self) -> dict:
        return {"Runtimes": self.runtimes}

    def get(self, name: str):  # images.get
        if self.labels is None:
            raise ImageNotFound(name)
        return type("Image", (), {"labels": self.labels})()

    def create(self, image: str, **options) -> FakeContainer:  # containers.create
        container = FakeContainer(self, options, self.ending)
        self.created.append(container)
        self.live.append(container)
        return container

    def list(self, all: bool, filters: dict) -> list[FakeContainer]:  # containers.list
        name, value = filters["label"].split("=", 1)
        return [c for c in self.live if c.options["labels"].get(name) == value]

    def slot_lock_held(self) -> bool:
        return self.lock_dir is not None and any(lock_is_held(path) for path in self.lock_dir.glob("*.lock"))


def lock_is_held(path: Path) -> bool:
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
    return False


def argument(container: FakeContainer, name: str) -> str:
    command = container.options["command"]
    return command[command.index(name) + 1]


@pytest.fixture(autouse=True)
def no_nvidia_smi(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the fake engine's runtimes say whether the host has a GPU."""
    monkeypatch.setattr("grader.sandbox.gpu.shutil.which", lambda _name: None)


@pytest.fixture
def slots(tmp_path: Path) -> GpuSlots:
    return GpuSlots(parse_slots("0,0,1"), tmp_path / "gpu-slots", poll_s=0.05)


@pytest.fixture
def spec(tmp_path: Path) -> RunSpec:
    (tmp_path / "submission").mkdir()
    (tmp_path / "probe").mkdir()
    return RunSpec(
        submission_tree=tmp_path / "submission",
        entry="solution.py",
        entry_kind="module",
        probe_dir=tmp_path / "probe",
        seed=1,
        gpu="optional",
        limits=Limits(time_s=30, budgets_s={"training": 40}, gpu={"time_s": 60, "budgets_s": {"training": 90}}),
    )


def gpu_backend(slots: GpuSlots, capabilities: ImageCapabilities, ending: str = "done") -> DockerBackend:
    engine = FakeEngine({"nvidia": {}, "runc": {}}, capabilities.labels(), slots.lock_dir, ending)
    return DockerBackend(engine, "grader-sandbox:test", gpu_slots=slots)


def test_cpu_only_image_on_a_gpu_host_runs_on_cpu_and_says_why(slots: GpuSlots, spec: RunSpec) -> None:
    backend = gpu_backend(slots, CPU_IMAGE)
    outcome = backend.run(spec)
    (container,) = backend.client.created
    assert container.options["device_requests"] is None
    assert argument(container, "--device") == "cpu"
    assert outcome.gpu == GpuUse(device="cpu", reason=CPU_ONLY_IMAGE)
    assert backend.describe(spec)["gpu"].reason == "host has a GPU but the image is CPU-only: build it with --gpu"


def test_cuda_image_on_a_gpu_host_gets_exactly_one_device_id_from_the_slots(slots: GpuSlots, spec: RunSpec) -> None:
    backend = gpu_backend(slots, CUDA_IMAGE)
    outcome = backend.run(spec)
    (container,) = backend.client.created
    (request,) = container.options["device_requests"]
    assert request["DeviceIDs"] == ["0"] and request.get("Count") in (None, 0)
    assert argument(container, "--device") == "cuda"
    assert container.options["labels"][GPU_SLOT_LABEL] == "gpu0-slot0"
    assert backend.client.slot_held_while_running == [True]
    assert outcome.gpu.device == "cuda" and outcome.gpu.device_id == "0" and outcome.gpu.memory_fraction == 0.5


def test_a_gpu_run_uses_the_assignments_gpu_limits(slots: GpuSlots, spec: RunSpec) -> None:
    backend = gpu_backend(slots, CUDA_IMAGE)
    backend.run(spec)
    (container,) = backend.client.created
    assert argument(container, "--time-limit") == "60"
    assert argument(container, "--budgets") == '{"training": 90.0}'
    assert argument(container, "--gpu-memory-fraction") == "0.5"


def test_cpu_gradings_take_no_slot_even_when_every_slot_is_taken(slots: GpuSlots, spec: RunSpec) -> None:
    backend = gpu_backend(slots, CUDA_IMAGE)
    with slots.hold(), slots.hold(), slots.hold():
        backend.run(RunSpec(**{**spec.__dict__, "gpu": "none"}))
    (container,) = backend.client.created
    assert container.options["device_requests"] is None and GPU_SLOT_LABEL not in container.options["labels"]


def test_concurrent_gradings_spread_over_the_gpus_before_sharing_one(slots: GpuSlots) -> None:
    with slots.hold() as first, slots.hold() as second, slots.hold() as third:
        assert [first.device_id, second.device_id, third.device_id] == ["0", "1", "0"]


@pytest.mark.parametrize("ending", ["timeout", "oom", "interrupted"])
def test_the_slot_is_freed_however_the_run_ends(slots: GpuSlots, spec: RunSpec, ending: str) -> None:
    backend = gpu_backend(slots, CUDA_IMAGE, ending)
    try:
        outcome = backend.run(spec)
    except KeyboardInterrupt:
        outcome = None
    assert backend.client.slot_held_while_running == [True]
    assert not backend.client.slot_lock_held()
    assert [c.removed for c in backend.client.created] == [True]
    if outcome is not None:
        assert outcome.status == ending


def test_a_killed_workers_slot_is_freed_and_its_container_removed(slots: GpuSlots, spec: RunSpec) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from grader.sandbox.gpu import GpuSlots, parse_slots
        with GpuSlots(parse_slots("0"), Path({str(slots.lock_dir)!r})).hold():
            print("holding", flush=True)
            time.sleep(600)
    """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        single = GpuSlots(parse_slots("0"), slots.lock_dir, poll_s=0.05)
        backend = gpu_backend(single, CUDA_IMAGE)
        orphan = backend.client.create("grader-sandbox:test", labels={GPU_SLOT_LABEL: "gpu0-slot0"})
        assert backend.client.slot_lock_held()
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        outcome = backend.run(spec)
    finally:
        holder.kill()
        holder.wait()
    assert outcome.gpu.device_id == "0" and outcome.status == "completed"
    assert orphan.removed


def test_no_gpu_on_the_host_means_cpu_with_the_reason(slots: GpuSlots, spec: RunSpec) -> None:
    engine = FakeEngine({"runc": {}}, CUDA_IMAGE.labels())
    outcome = DockerBackend(engine, "grader-sandbox:test", gpu_slots=slots).run(spec)
    assert outcome.gpu.device == "cpu" and "this host has no GPU" in outcome.gpu.reason


def course_asking(tmp_path: Path, gpu: str) -> Settings:
    """The fixture course, its p1 asking for a GPU as `gpu` says."""
    course = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, course)
    definition = course / "assignments" / "p1" / "assignment.yaml"
    definition.write_text(definition.read_text().replace("gpu: none", f"gpu: {gpu}"))
    return Settings(course_dir=course, data_dir=tmp_path / "data")


@pytest.fixture
def required_gpu_course(tmp_path: Path) -> Settings:
    return course_asking(tmp_path, "required")


def test_the_result_and_the_report_say_why_a_gpu_host_graded_on_cpu(tmp_path: Path, slots: GpuSlots) -> None:
    from rich.console import Console

    from grader.feedback import render_report

    settings = course_asking(tmp_path, "optional")
    verdict = Grader(settings, gpu_backend(slots, CPU_IMAGE)).grade_path(_solution(settings), "p1")
    assert verdict.result.status == "graded"
    assert verdict.result.sandbox.gpu == GpuUse(device="cpu", reason=CPU_ONLY_IMAGE)
    console = Console(record=True, width=200)
    render_report(verdict.result, console)
    assert f"device: cpu: {CPU_ONLY_IMAGE}" in console.export_text()


def test_gpu_required_on_a_cpu_only_image_is_an_infra_error_with_the_reason(
    required_gpu_course: Settings, slots: GpuSlots
) -> None:
    backend = gpu_backend(slots, CPU_IMAGE)
    verdict = Grader(required_gpu_course, backend).grade_path(_solution(required_gpu_course), "p1")
    assert verdict.result.status == "infra_error"
    assert (
        "this run needs a GPU, but host has a GPU but the image is CPU-only: build it with --gpu"
        in verdict.result.message
    )
    assert verdict.result.infra_attempts == 1  # not retried: nothing would change
    assert backend.client.created == []


def _solution(settings: Settings) -> Path:
    return settings.assignments_dir / "p1" / "starter" / "solution.py"


class OutOfGpuMemory:
    """A backend whose run ended with torch's CUDA out-of-memory error in one step."""

    kind = "fake"

    def __init__(self, device: str) -> None:
        self.device = device

    def describe(self, spec: RunSpec) -> dict:
        return {"kind": self.kind, "isolation": "none", "gpu": GpuUse(device=self.device), "limits": {}}

    def run(self, spec: RunSpec) -> RunOutcome:
        record = (
            '{"step": "forward", "ok": false, "values": {}, "arrays": [], "duration_s": 0.1, "error": '
            '{"type": "OutOfMemoryError", "message": "CUDA out of memory. Tried to allocate 2.00 GiB", '
            '"frames": []}}'
        )
        return RunOutcome(
            status="completed",
            files={"forward.json": record.encode(), "_done.json": b'{"done": true}'},
            stdout="",
            stderr="",
            output_truncated=False,
            returncode=0,
            duration_s=0.1,
            gpu=GpuUse(
                device=self.device,
                device_id="1" if self.device == "cuda" else None,
                memory_fraction=0.5 if self.device == "cuda" else None,
            ),
        )


def test_cuda_out_of_memory_is_reported_as_oom_with_the_grading_share(fixture_settings: Settings) -> None:
    verdict = Grader(fixture_settings, OutOfGpuMemory("cuda")).grade_path(_solution(fixture_settings), "p1")
    assert verdict.result.status == "oom"
    assert verdict.result.message.startswith("Your code ran out of GPU memory (this grading may use 50% of GPU 1's")
    assert verdict.result.sandbox.gpu.device_id == "1"


def test_the_same_error_on_cpu_is_not_a_gpu_oom(fixture_settings: Settings) -> None:
    verdict = Grader(fixture_settings, OutOfGpuMemory("cpu")).grade_path(_solution(fixture_settings), "p1")
    assert verdict.result.status == "graded"


@pytest.mark.parametrize(
    "spec_text, problem",
    [
        ("all:0", "after 'all:' comes the number of gradings per GPU"),
        ("0,a", "give GPU numbers separated by commas"),
    ],
)
def test_bad_slot_settings_say_what_to_write(spec_text: str, problem: str) -> None:
    with pytest.raises(SandboxError, match=problem):
        parse_slots(spec_text)


def test_all_slots_cover_every_gpu_of_the_host() -> None:
    assert parse_slots("all:2", host_devices=lambda: ["0", "1"]) == [
        GpuSlot("0", 0, 0.5),
        GpuSlot("1", 0, 0.5),
        GpuSlot("0", 1, 0.5),
        GpuSlot("1", 1, 0.5),
    ]


def test_a_gpu_is_required_of_a_backend_only_where_it_passes_none(slots: GpuSlots) -> None:
    require_gpu(gpu_backend(slots, CUDA_IMAGE))
    with pytest.raises(GpuUnavailable, match=CPU_ONLY_IMAGE):
        require_gpu(gpu_backend(slots, CPU_IMAGE))


def test_check_references_on_cuda_stops_at_once_saying_why(
    fixture_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from grader.entrypoints.cli import app

    monkeypatch.setenv("GRADER_COURSE_DIR", str(fixture_settings.course_dir))
    monkeypatch.setenv("GRADER_DATA_DIR", str(fixture_settings.data_dir))
    ran = CliRunner().invoke(app, ["check-references", "--device", "cuda", "--sandbox", "local"])
    assert ran.exit_code == 2
    assert "--device cuda, but the local sandbox passes no GPU" in ran.output


def test_a_gpu_worker_whose_image_is_cpu_only_does_not_start(
    fixture_settings: Settings, slots: GpuSlots, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from grader.entrypoints.cli import app

    monkeypatch.setenv("GRADER_DATA_DIR", str(fixture_settings.data_dir))
    monkeypatch.setattr(
        "grader.queue.celery_worker.select_backend", lambda settings, kind: gpu_backend(slots, CPU_IMAGE)
    )
    ran = CliRunner().invoke(app, ["worker", "--gpu"])
    assert ran.exit_code == 2
    assert f"grader worker --gpu: {CPU_ONLY_IMAGE}" in ran.output
    assert not (fixture_settings.data_dir / "grader.sqlite3").exists()  # stopped before the gradebook
