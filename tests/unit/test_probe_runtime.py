"""The probe runtime: the channel lets only checked plain data cross, and the driver keeps its records whatever the
student's process does (crash, hang, exit, forge), because that process is not the driver's."""

from __future__ import annotations

import importlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path, PurePosixPath

import numpy as np
import pytest

from grader.domain.assignment import Limits
from grader.judge import ProbeData
from grader.pipeline import timeout_reason
from grader.sandbox.base import RUNTIME_DIR, SandboxError, parse_payload
from grader.sandbox.local_backend import LocalBackend
from grader.sandbox.runtime.runner import PAYLOAD_MAGIC, PAYLOAD_SIZE
from tests.probe_runs import probe_run_spec


@pytest.fixture(scope="module")
def channel():
    """The channel module as the sandbox imports it (a top-level module beside the runner)."""
    sys.path.insert(0, str(RUNTIME_DIR))
    try:
        yield importlib.import_module("grader_channel")
    finally:
        sys.path.remove(str(RUNTIME_DIR))


class AlwaysEqual:
    def __eq__(self, other):
        return True


class SneakyStr(str):
    def __eq__(self, other):
        return True


def round_trip(channel, value):
    kept = []
    encoder = channel.Encoder(lambda obj: kept.append(obj) or {"$": "handle", "id": len(kept), "type": "x"})
    data = encoder.encode(value)
    header = json.loads(json.dumps(data))
    return channel.Decoder(encoder.buffers, lambda ref: ("handle", ref["id"])).decode(header), kept


def test_plain_values_cross_by_value_with_their_exact_types(channel):
    value = {
        "a": [1, 2.5, None, True, "s"],
        "t": (1, "x"),
        3: b"\x00\x01",
        "big": 2**70,
        "nan": float("inf"),
        "path": PurePosixPath("/tmp/x"),
    }
    decoded, kept = round_trip(channel, value)
    assert decoded == {**value, "path": Path("/tmp/x")} and kept == []
    assert type(decoded["t"]) is tuple and type(decoded[3]) is bytes


def test_objects_that_are_not_exact_plain_data_stay_behind_as_handles(channel):
    always, sneaky = AlwaysEqual(), SneakyStr("x")
    decoded, kept = round_trip(channel, [always, sneaky, {"k": always}])
    assert decoded == [("handle", 1), ("handle", 2), {"k": ("handle", 3)}]
    assert kept == [always, sneaky, always]


def test_arrays_and_tensors_cross_with_dtype_and_shape(channel):
    import torch  # here, not at the top: collecting the tests imports no torch, which only this test needs

    array = np.arange(6, dtype=np.int16).reshape(2, 3)
    tensor = torch.linspace(0, 1, 8, dtype=torch.bfloat16).reshape(2, 4)
    decoded, _ = round_trip(channel, (array, tensor, np.float32(0.5)))
    assert decoded[0].dtype == np.int16 and np.array_equal(decoded[0], array)
    assert isinstance(decoded[1], torch.Tensor) and decoded[1].dtype == torch.bfloat16
    assert torch.equal(decoded[1], tensor) and decoded[2].dtype == np.float32


@pytest.mark.parametrize(
    "bad, reason",
    [
        ({"$": "array", "b": 0, "dtype": "|O", "shape": [1]}, "dtype"),
        ({"$": "array", "b": 0, "dtype": "<f4", "shape": [1000]}, "does not match"),
        ({"$": "array", "b": 0, "dtype": "<f4", "shape": [10**6, 10**6]}, "more than"),
        ({"$": "array", "b": 7, "dtype": "<f4", "shape": [1]}, "no buffer"),
        ({"$": "dict", "k": [[1]], "v": [1]}, "hashable"),
        ({"$": "bigint", "v": "9" * 5000}, "too large"),
        ({"$": "eval", "v": "os.system('x')"}, "unknown"),
    ],
)
def test_the_decoder_refuses_malformed_data_with_a_reason(channel, bad, reason):
    with pytest.raises(channel.ChannelError, match=reason):
        channel.Decoder([b"\x00" * 4], lambda ref: None).decode(bad)


def test_the_decoder_refuses_nesting_deeper_than_its_limit(channel):
    nested: object = 1
    for _ in range(channel.MAX_DEPTH + 5):
        nested = [nested]
    with pytest.raises(channel.ChannelError, match="nested"):
        channel.Decoder([], lambda ref: None).decode(nested)


def send_raw(channel, frame: bytes):
    ours, theirs = socket.socketpair()
    theirs.sendall(frame)
    theirs.close()
    return channel.Connection(ours)


def test_a_connection_refuses_oversized_or_malformed_frames(channel):
    huge_header = channel.FRAME.pack(channel.MAX_HEADER_BYTES + 1, 0)
    with pytest.raises(channel.ChannelError, match="too large"):
        send_raw(channel, huge_header).receive()
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(channel.ChannelError, match="not valid JSON"):
        send_raw(channel, channel.FRAME.pack(len(deep), 0) + deep).receive()
    header = b"{}"
    too_big = channel.FRAME.pack(len(header), 1) + header + channel.BUFFER.pack(channel.MAX_MESSAGE_BYTES + 1)
    with pytest.raises(channel.ChannelError, match="larger than"):
        send_raw(channel, too_big).receive()
    with pytest.raises(channel.ChannelClosed):
        send_raw(channel, b"").receive()


def payload_of(header: dict, files: dict[str, bytes]) -> bytes:
    encoded = json.dumps({**header, "files": [[name, len(content)] for name, content in files.items()]}).encode()
    return PAYLOAD_MAGIC + PAYLOAD_SIZE.pack(len(encoded)) + encoded + b"".join(files.values())


RUN_HEADER = {
    "returncode": 0,
    "timed_out": False,
    "duration_s": 1.0,
    "oom_kills": 0,
    "stdout": "",
    "stderr": "",
    "output_truncated": False,
}


def test_printing_or_raising_memory_error_is_not_an_oom():
    payload = payload_of({**RUN_HEADER, "stderr": "MemoryError\n" * 50}, {"_done.json": b"{}"})
    assert parse_payload(payload, killed_for_time=False, oom_killed=False, gpu=False).status == "completed"
    killed = payload_of({**RUN_HEADER, "oom_kills": 1}, {"_done.json": b"{}"})
    assert parse_payload(killed, killed_for_time=False, oom_killed=False, gpu=False).status == "oom"


def test_a_timeout_names_the_limit_the_runner_says_stopped_the_run():
    run_time = {"cpu_s": 41.2, "cpu_limit_s": 40.0, "wall_cap_s": 200.0, "passed": "cpu"}
    payload = payload_of({**RUN_HEADER, "timed_out": True, "run_time": run_time}, {})
    outcome = parse_payload(payload, killed_for_time=False, oom_killed=False)
    assert outcome.status == "timeout" and outcome.run_time.passed == "cpu"
    assert timeout_reason(outcome, 40).startswith("Your program used 41.2 s of CPU time, over the run's limit of 40 s")


def test_a_run_killed_from_outside_times_out_without_the_runners_figures():
    outcome = parse_payload(b"", killed_for_time=True, oom_killed=False)
    assert outcome.status == "timeout" and outcome.run_time is None
    assert "(40 s of CPU time, under a wall-clock cap) and the sandbox was stopped from outside" in timeout_reason(
        outcome, 40
    )


def test_a_payload_is_read_only_from_its_start():
    """Records may hold any bytes (a student's strings), the magic included: only the runner's header counts."""
    inner = payload_of(RUN_HEADER, {"_done.json": b"{}"})
    with pytest.raises(SandboxError):
        parse_payload(b"noise" + inner, killed_for_time=False, oom_killed=False, gpu=False)
    carrying = payload_of(RUN_HEADER, {"x.json": inner, "_done.json": b"{}"})
    assert parse_payload(carrying, killed_for_time=False, oom_killed=False, gpu=False).files["x.json"] == inner


PROBE = """
import time
import grader_probe as gp

class Backend(gp.Scripted):
    def __init__(self):
        self.calls = []
    def complete(self, prompt):
        self.calls.append(prompt)
        if prompt == "fail":
            raise ConnectionError("busy")
        return prompt.upper()

solution = gp.load_solution()
with gp.step("crash", timeout_s=10) as s:
    solution.crash()
with gp.step("after_crash", timeout_s=10) as s:
    s.emit("value", solution.value())
with gp.step("hang", timeout_s=1) as s:
    solution.hang()
with gp.step("after_hang", timeout_s=10) as s:
    s.emit("value", solution.value())
with gp.step("handle", timeout_s=10) as s:
    s.emit("value", solution.sneaky())
with gp.step("callbacks", timeout_s=10) as s:
    backend = Backend()
    s.emit("answers", solution.ask(backend, ["a", "fail", "b"]))
    s.emit("calls", backend.calls)
with gp.step("made_before_a_crash", timeout_s=10) as s:
    kept = solution.Sneaky("x")
    solution.crash()
with gp.step("stale_handle", timeout_s=10) as s:
    s.emit("value", kept.upper())
with gp.step("timing", timeout_s=10) as s:
    started = time.perf_counter()
    solution.nap()
    s.emit("elapsed_s", time.perf_counter() - started)
gp.done()
"""

STUDENT = """
import atexit, os, sys, threading, time

def crash():
    os._exit(7)

def value():
    return 42

def hang():
    while True:
        pass

class Sneaky(str):
    def __eq__(self, other):
        return True

def sneaky():
    return Sneaky("42")

def ask(backend, prompts):
    answers = []
    for prompt in prompts:
        try:
            answers.append(backend.complete(prompt))
        except ConnectionError as error:
            answers.append("error: " + str(error))
    return answers

def nap():
    time.perf_counter = lambda: 0.0  # patches only the student's own process
    time.sleep(0.3)

def forge():
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                os.kill(int(name), 9) if int(name) != os.getpid() else None
            except OSError:
                pass

atexit.register(forge)
threading.Thread(target=lambda: time.sleep(1000), daemon=False).start()
"""


def run_probe(tmp_path: Path, probe: str, student: str):
    return LocalBackend(use_bwrap=False).run(probe_run_spec(tmp_path, probe, student=student, limits=Limits(time_s=60)))


def test_the_driver_survives_the_students_process_and_measures_for_itself(tmp_path):
    outcome = run_probe(tmp_path, PROBE, STUDENT)
    data = ProbeData.from_files(outcome.files)
    assert outcome.status == "completed", outcome.stderr
    assert not data.steps["crash"].ok and "exit code 7" in data.steps["crash"].error["message"]
    assert data.steps["after_crash"].values == {"value": 42}  # a fresh process for the next step
    assert data.steps["hang"].error["type"] == "StepTimeout"
    assert data.steps["after_hang"].values == {"value": 42}
    assert not data.steps["handle"].ok and "Sneaky object" in data.steps["handle"].error["message"]
    assert data.steps["callbacks"].values == {"answers": ["A", "error: busy", "B"], "calls": ["a", "fail", "b"]}
    assert data.steps["timing"].values["elapsed_s"] >= 0.3
    assert "lost when your program stopped" in data.steps["stale_handle"].error["message"]


def test_output_over_the_runs_cap_fails_its_step_and_the_run_goes_on(tmp_path):
    """A student cannot turn too much output into a lost payload (an infra_error, retried and never counted)."""
    student = """
    def huge(megabytes):
        return bytes(megabytes * 2**20)
    def value():
        return 42
    """
    probe = """
import numpy
import grader_probe as gp
solution = gp.load_solution()
with gp.step("too_much_for_the_record") as s:
    s.emit_array("data", numpy.frombuffer(solution.huge(50), dtype=numpy.uint16))
with gp.step("too_much_for_the_channel") as s:
    s.emit("size", len(solution.huge(300)))
with gp.step("after") as s:
    s.emit("value", solution.value())
gp.done()
"""
    outcome = run_probe(tmp_path, probe, student)
    data = ProbeData.from_files(outcome.files)
    assert outcome.status == "completed"
    assert data.steps["too_much_for_the_record"].error["type"] == "OutputTooLarge"
    assert "larger than 256 MiB" in data.steps["too_much_for_the_channel"].error["message"]
    assert data.steps["after"].values == {"value": 42}


def test_a_probe_imports_the_modules_beside_it(tmp_path):
    """A probe split by idea: its steps live in modules of the probe's folder, which the driver puts on its path."""
    probe = """
import grader_probe as gp
import value_steps
value_steps.run(gp.load_solution())
gp.done()
"""
    spec = probe_run_spec(tmp_path, probe, student="def value():\n    return 42\n", limits=Limits(time_s=60))
    (spec.probe_dir / "value_steps.py").write_text(
        "import grader_probe as gp\n\ndef run(solution):\n    with gp.step('value') as s:\n"
        "        s.emit('value', solution.value())\n"
    )
    outcome = LocalBackend(use_bwrap=False).run(spec)
    assert outcome.status == "completed", outcome.stderr
    assert ProbeData.from_files(outcome.files).steps["value"].values == {"value": 42}


@pytest.mark.slow
def test_a_notebooks_cell_report_survives_a_whole_run_timeout_and_its_tracebacks_reach_the_logs(tmp_path):
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("def value():\n    return 42\n"),
        nbformat.v4.new_code_cell("raise KeyError('scratch')"),
        nbformat.v4.new_code_cell("def hang():\n    while True:\n        pass\n"),
    ]
    probe = (
        "import grader_probe as gp\nsolution = gp.load_solution()\nwith gp.step('hangs') as s:\n"
        "    solution.hang()\ngp.done()\n"
    )
    spec = probe_run_spec(tmp_path, probe, notebook=notebook, limits=Limits(time_s=20, cell_timeout_s=5))
    outcome = LocalBackend(use_bwrap=False).run(spec)
    assert outcome.status == "timeout"
    cells = json.loads(outcome.files["_notebook.json"])["cells"]
    assert [cell["status"] for cell in cells] == ["ok", "error", "ok"]
    assert "KeyError: 'scratch'" in outcome.stderr and "Traceback" in outcome.stderr


def test_the_runtime_modules_import_nothing_outside_the_standard_library_at_start():
    code = (
        "import sys; sys.path.insert(0, %r); import grader_channel, grader_records, grader_student; "
        "print(sorted(m for m in ('numpy', 'torch') if m in sys.modules))" % str(RUNTIME_DIR)
    )
    assert (
        subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, check=True).stdout.strip()
        == "[]"
    )


@pytest.mark.skipif(not os.path.exists("/proc/self/autogroup"), reason="kernel without autogroup scheduling")
def test_a_run_in_a_session_of_its_own_keeps_the_lower_priority_it_was_started_with():
    """Under autogroup scheduling a new session competes at nice 0 whatever its own nice value; the runner carries it."""
    code = (
        "import os; os.setsid(); from grader.sandbox.runtime.runner import keep_priority; keep_priority(); "
        "print(open('/proc/self/autogroup').read())"
    )
    started = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, preexec_fn=lambda: os.nice(7)
    )
    assert started.stdout.split()[-1] == "7", started.stdout
