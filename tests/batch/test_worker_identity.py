"""A `grader worker --gpu` names its GPU by model, as nvidia-smi reports it, on the jobs it grades."""

from __future__ import annotations

import stat

import pytest

from grader.queue.identity import gpu_model


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
    assert gpu_model() == "NVIDIA H100 80GB HBM3"


def test_a_failing_nvidia_smi_still_marks_a_gpu(nvidia_smi):
    nvidia_smi("echo 'NVIDIA-SMI has failed' >&2; exit 9")
    assert gpu_model() == "GPU"


def test_without_nvidia_smi_a_declared_gpu_is_unnamed(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert gpu_model() == "GPU"
