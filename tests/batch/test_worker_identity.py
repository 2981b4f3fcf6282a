"""A `grader worker --gpu` names its GPU by model, as nvidia-smi reports it, on the jobs it grades; the GPU slots
count the same tool's devices."""

from __future__ import annotations

import stat

import pytest

from grader.sandbox.base import SandboxError
from grader.sandbox.gpu import host_gpu_ids, host_gpu_model, parse_slots


@pytest.fixture
def nvidia_smi(tmp_path, monkeypatch):
    """Puts an `nvidia-smi` with the given script body first on PATH (this machine has no GPU)."""

    def install(body: str) -> None:
        tool = tmp_path / "bin" / "nvidia-smi"
        tool.parent.mkdir(exist_ok=True)
        tool.write_text(f"#!/bin/sh\n{body}\n")
        tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
        monkeypatch.setenv("PATH", f"{tool.parent}:/usr/bin:/bin")

    return install


def test_the_gpu_is_named_by_its_first_devices_model(nvidia_smi):
    nvidia_smi('[ "$1" = "--query-gpu=name" ] && printf "NVIDIA H100 80GB HBM3\\nNVIDIA H100 80GB HBM3\\n"')
    assert host_gpu_model() == "NVIDIA H100 80GB HBM3"


def test_a_failing_nvidia_smi_still_marks_a_gpu(nvidia_smi):
    nvidia_smi("echo 'NVIDIA-SMI has failed' >&2; exit 9")
    assert host_gpu_model() == "GPU"


def test_without_nvidia_smi_a_declared_gpu_is_unnamed(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert host_gpu_model() == "GPU"


def test_all_gpus_slots_count_the_devices_nvidia_smi_numbers(nvidia_smi):
    nvidia_smi('[ "$1" = "--query-gpu=index" ] && printf "0\\n1\\n"')
    assert host_gpu_ids() == ["0", "1"]
    assert [slot.name for slot in parse_slots("all:1")] == ["gpu0-slot0", "gpu1-slot0"]


def test_without_nvidia_smi_all_gpus_slots_ask_for_device_ids(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SandboxError, match="name the device ids instead"):
        host_gpu_ids()
