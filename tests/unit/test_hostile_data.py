"""The host side survives any data a hostile run emits: records, arrays, checks that break, text that looks like markup.

Each case here once crashed the grader, stalled it, or swelled its memory; now it fails only the step or check it hits,
with a reason the student may read.
"""

from __future__ import annotations

import io
import json
import math
import struct
import threading
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from grader.domain.assignment import Assignment
from grader.domain.result import CriterionResult, GradeResult, NotebookCell
from grader.feedback import render_report
from grader.intake import IntakeCaps, Rejected, accept
from grader.judge import (
    CheckOutcome,
    Judge,
    ProbeData,
    StepUnavailable,
    check,
    format_step_error,
    run_check,
)
from grader.probe_records import Unreadable, read_json
from grader.redaction import Redactor

UNREADABLE = "the data this step produced could not be read: "
MB = 1024 * 1024


def record(name: str = "s", **fields) -> bytes:
    fields = {"step": name, "ok": True, "values": {}, "arrays": [], "error": None, "duration_s": 0.1, **fields}
    return json.dumps(fields).encode()


def npy(shape: tuple[int, ...], descr: str = "<f8", data: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue() + data


def zipped(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def unreadable_reason(data: ProbeData, name: str = "s") -> str:
    assert data.steps[name].ok is False
    with pytest.raises(StepUnavailable) as raised:
        data.step(name)
    assert raised.value.reason.startswith(UNREADABLE), raised.value.reason
    return raised.value.reason[len(UNREADABLE) :]


def deep_record(depth: int) -> bytes:
    return b'{"step": "s", "ok": true, "values": {"x": ' + b"[" * depth + b"]" * depth + b"}}"


def bomb_npz(expanded_bytes: int) -> bytes:
    """One deflated member that expands ~1000x: an array header declaring `expanded_bytes` of float64, then zeros."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("m.npy", "w", force_zip64=True) as member,
    ):
        member.write(npy((expanded_bytes // 8,)))
        zeros = bytes(MB)
        for _ in range(expanded_bytes // MB):
            member.write(zeros)
    return buffer.getvalue()


def many_members_npz(count: int) -> bytes:
    one = io.BytesIO()
    np.save(one, np.array(True))
    return zipped({f"a{index}.npy": one.getvalue() for index in range(count)})


@pytest.fixture(scope="module")
def hostile_files() -> dict[str, bytes]:
    """One step per attack that once broke the grader, all in one run."""
    return {
        "deep.json": deep_record(100_000).replace(b'"s"', b'"deep"'),
        "inf.json": record("inf").replace(b"0.1}", b"1e400}"),
        "bigint.json": record("bigint", duration_s=10**4000),
        "shape.json": record("shape", arrays=["m"]),
        "shape.npz": zipped({"m.npy": npy((10**12,))}),
        "many.json": record("many", arrays=[f"a{index}" for index in range(30_000)]),
        "many.npz": many_members_npz(30_000),
        "bomb.json": record("bomb", arrays=["m"]),
        "bomb.npz": bomb_npz(1100 * MB),
    }


def test_a_record_nested_100000_deep_is_a_failed_step():
    assert "nested deeper" in unreadable_reason(ProbeData.from_files({"s.json": deep_record(100_000)}))


@pytest.mark.parametrize(
    "raw",
    [
        record().replace(b"0.1}", b"1e400}"),
        record(duration_s=10**4000),
        record().replace(b"0.1}", b"NaN}"),
        record(duration_s=-1),
        record(duration_s="1"),
        record(duration_s=True),
    ],
)
def test_a_duration_that_is_not_a_finite_number_is_a_failed_step(raw):
    assert "duration_s" in unreadable_reason(ProbeData.from_files({"s.json": raw}))


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"ok": "true"}, "ok"),
        ({"ok": 1}, "ok"),
        ({"values": [1]}, "values"),
        ({"values": "x"}, "values"),
        ({"arrays": "m"}, "arrays"),
        ({"arrays": [1]}, "arrays"),
        ({"error": "boom"}, "error"),
        ({"step": 5}, "step"),
    ],
)
def test_fields_of_the_wrong_type_are_a_failed_step(fields, field):
    assert field in unreadable_reason(ProbeData.from_files({"s.json": record(**fields)}))


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b"[]", "not a JSON object"),
        (b"\xff{}", "UTF-8"),
        (b'{"step": ', "JSON"),
        (b'{"step": "s", "x": "' + b"a" * (9 * MB) + b'"}', "larger than"),
        (b'{"step": "s", "x": 1' + b"0" * 5000 + b"}", "digits"),
    ],
)
def test_bytes_that_are_not_a_record_are_a_failed_step(raw, reason):
    assert reason in unreadable_reason(ProbeData.from_files({"s.json": raw}))


def test_read_json_serves_other_records_of_a_run_within_the_same_caps():
    assert read_json(b'{"cells": [{"index": 1, "status": "ok"}]}') == {"cells": [{"index": 1, "status": "ok"}]}
    with pytest.raises(Unreadable, match="nested deeper"):
        read_json(b'{"cells": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")


def test_a_forged_error_is_described_without_crashing():
    error = {"type": ["x"], "message": {"a": 1}, "frames": "abc"}
    data = ProbeData.from_files({"s.json": record(ok=False, error=error)})
    with pytest.raises(StepUnavailable, match="your code raised"):
        data.step("s")
    odd_frames = {"type": "E\ud800", "message": "m" * 10_000, "frames": [{"file": "\ud800", "line": 10**5000}]}
    line = format_step_error(odd_frames)
    assert "\ud800" not in line and len(line) < 1000


def test_an_array_with_a_huge_declared_shape_is_refused_before_allocating():
    data = ProbeData.from_files({"s.json": record(arrays=["m"]), "s.npz": zipped({"m.npy": npy((10**12,))})})
    assert "too large" in unreadable_reason(data)


@pytest.mark.parametrize("descr", ["|O", "<U4", [("a", "<f8")], "<c16", "<M8[s]"])
def test_arrays_of_other_than_bool_int_or_float_are_refused(descr):
    content = npy((1,), descr=descr, data=bytes(np.dtype(descr).itemsize) if descr != "|O" else b"")
    data = ProbeData.from_files({"s.json": record(arrays=["m"]), "s.npz": zipped({"m.npy": content})})
    assert "dtype" in unreadable_reason(data)


def test_an_array_whose_data_is_shorter_than_its_shape_is_refused():
    data = ProbeData.from_files({"s.json": record(arrays=["m"]), "s.npz": zipped({"m.npy": npy((100,), data=b"x")})})
    assert "shape" in unreadable_reason(data)


@pytest.mark.parametrize("names", [[f"a{index}" for index in range(30_000)], ["a0"]])
def test_an_npz_with_very_many_members_is_refused_quickly(names):
    files = {"s.json": record(arrays=names), "s.npz": many_members_npz(30_000)}
    started = time.process_time()
    data = ProbeData.from_files(files)
    assert time.process_time() - started < 5
    assert "more than 256 arrays" in unreadable_reason(data)


def test_a_zip_bombed_npz_is_refused_before_it_is_expanded():
    data = ProbeData.from_files({"s.json": record(arrays=["m"]), "s.npz": bomb_npz(64 * MB)})
    assert "expands" in unreadable_reason(data)


def test_honest_arrays_are_read_stored_or_compressed_and_cannot_be_changed_by_a_check():
    for compression in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        buffer = io.BytesIO()
        np.save(buffer, np.arange(300_000, dtype=np.float64).reshape(1000, 300))
        data = ProbeData.from_files(
            {"s.json": record(arrays=["m"]), "s.npz": zipped({"m.npy": buffer.getvalue()}, compression)}
        )
        array = data.step("s").array("m")
        assert array.shape == (1000, 300) and array[999, 299] == 299_999 and not array.flags.writeable


@pytest.mark.slow
def test_parsing_every_hostile_record_at_once_stays_small_and_quick(hostile_files):
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        started = time.process_time()
        data = ProbeData.from_files(hostile_files)
        elapsed = time.process_time() - started
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    print(f"peak {peak / MB:.1f} MiB above baseline, {elapsed:.2f} s CPU")
    # Each is refused before its data is expanded (a few MiB); before the caps the zip bomb alone took 1.1 GB.
    assert peak < 100 * MB and elapsed < 10
    assert all(not data.steps[name].ok for name in ("deep", "inf", "bigint", "shape", "many", "bomb"))


def test_the_whole_run_has_one_budget_for_arrays():
    chunk = io.BytesIO()
    np.save(chunk, np.zeros(5 * MB, dtype=np.float64))  # 40 MiB each, stored
    files = {}
    for index in range(4):
        files[f"s{index}.json"] = record(f"s{index}", arrays=["m"])
        files[f"s{index}.npz"] = zipped({"m.npy": chunk.getvalue()})
    data = ProbeData.from_files(files)
    assert [data.steps[f"s{index}"].ok for index in range(4)] == [True, True, True, False]
    assert "more array data" in unreadable_reason(data, "s3")


GENERIC = "the grader could not complete this check on the data your code produced"


def _recurse():
    return _recurse()


def _raises(error: BaseException):
    def raising():
        raise error

    return raising


@pytest.mark.parametrize(
    "action", [_recurse, _raises(MemoryError()), lambda: math.exp(1000), _raises(type("Odd", (BaseException,), {})())]
)
def test_a_check_that_raises_anything_fails_only_itself_with_a_generic_message(action):
    outcome = run_check("c", lambda _data: action(), ProbeData.from_files({}))
    assert not outcome.passed and outcome.student_message == GENERIC and outcome.detail


def test_keyboard_interrupt_in_a_check_still_stops_the_grader():
    def interrupted(_data):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Judge(checks={"c": interrupted}).run(ProbeData.from_files({}))


def test_a_check_past_its_time_limit_fails_and_the_others_still_run_in_any_thread():
    stop = threading.Event()

    @check("sleeps")
    def sleeps(_data):
        stop.wait(30)

    @check("spins")
    def spins(_data):
        while not stop.is_set():
            pass

    @check("quick")
    def quick(_data):
        return None

    judge = Judge(checks={"sleeps": sleeps, "spins": spins, "quick": quick}, check_time_limit_s=0.3)
    results: list[dict[str, CheckOutcome]] = []
    started = time.monotonic()
    try:
        worker = threading.Thread(target=lambda: results.append(judge.run(ProbeData.from_files({}))))
        worker.start()
        worker.join(10)
    finally:
        stop.set()
    assert time.monotonic() - started < 3
    outcomes = results[0]
    assert outcomes["quick"].passed
    for slow in ("sleeps", "spins"):
        assert not outcomes[slow].passed
        assert outcomes[slow].student_message == "the grader could not finish this check in time"


def test_the_judge_phase_has_a_time_limit_of_its_own():
    def naps(_data):
        time.sleep(0.4)

    judge = Judge(checks={"first": naps, "second": naps, "third": naps}, check_time_limit_s=5, time_limit_s=0.6)
    outcomes = judge.run(ProbeData.from_files({}))
    assert outcomes["first"].passed and not outcomes["second"].passed and not outcomes["third"].passed


MARKUP = "[bold]x[/red] [link=https://evil.example]click[/link] :smile: \x1b[2J"


def test_student_text_is_printed_literally_and_never_crashes_the_report():
    result = GradeResult(
        assignment="p1",
        status="error",
        message=f"{MARKUP} \ud800",
        criteria=[CriterionResult(id="a", title="A [x]", points=0, max_points=5, feedback=f"[/red]{MARKUP}\ud800")],
        notebook_cells=[NotebookCell(index=2, status="error", message=f"[/]{MARKUP}\udfff")],
    )
    explain = {"c": CheckOutcome("c", False, detail=f"[/red] {MARKUP} \ud800")}
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="")
    render_report(result, Console(file=out, width=300, color_system=None), title="[red]name[/", explain=explain)
    out.flush()
    text = out.buffer.getvalue().decode("utf-8")
    assert "[bold]x[/red] [link=https://evil.example]click[/link] :smile:" in text
    assert "[/red][bold]x" in text and "[/][bold]x" in text and "[red]name[/" in text
    assert "\ufffd" in text and "\x1b" not in text


def test_redaction_is_safe_on_any_text():
    redactor = Redactor(("the hidden corpus line number one",))
    assert redactor.redact("a \ud800 the hidden corpus line number one") == "a \ufffd [hidden]"
    assert redactor.redact_all(["\udfff", "the hidden corpus line number one!"]) == ["\ufffd", "[hidden]!"]


CAPS = IntakeCaps(max_upload_bytes=2_000_000, max_files=20, max_expanded_bytes=5_000_000, max_compression_ratio=100)


def _accept_zip(tmp_path: Path, raw: bytes) -> None:
    source = tmp_path / "upload.zip"
    source.write_bytes(raw)
    (tmp_path / "tree").mkdir()
    accept(source, "upload.zip", Assignment(id="p1", title="t"), CAPS, tmp_path / "tree")


def test_a_zip_name_flagged_utf8_that_is_not_utf8_is_rejected(tmp_path):
    raw = bytearray(zipped({"solution.py": b"x = 1\n", "badXname.txt": b"x"}))
    local, central = raw.find(b"badXname.txt"), raw.rfind(b"badXname.txt")
    for name_at, flags_at in ((local, local - 30 + 6), (central, central - 46 + 8)):  # header sizes of the zip format
        raw[name_at : name_at + 12] = b"bad\xffname.txt"
        raw[flags_at : flags_at + 2] = struct.pack("<H", struct.unpack("<H", raw[flags_at : flags_at + 2])[0] | 0x800)
    with pytest.raises(Rejected, match="a file name in the zip is not valid UTF-8"):
        _accept_zip(tmp_path, raw)


def test_a_zip_member_with_corrupt_compressed_data_is_rejected(tmp_path):
    payload = b"print('hello')\n" * 1000
    raw = zipped({"solution.py": payload}, zipfile.ZIP_DEFLATED)
    compressed = zlib.compressobj(wbits=-15)
    stream = compressed.compress(payload) + compressed.flush()
    corrupt = raw.replace(stream, b"\xff" * len(stream))
    assert corrupt != raw
    with pytest.raises(Rejected, match="cannot be extracted"):
        _accept_zip(tmp_path, corrupt)


def _patched(raw: bytes, name: bytes, field_offset: int, value: bytes) -> bytes:
    """`raw` with a field of the central-directory entry of `name` (46 bytes of fixed header before the name) set."""
    at = raw.rfind(name) - 46 + field_offset
    return raw[:at] + value + raw[at + len(value) :]


@pytest.mark.parametrize(
    "raw, message",
    [
        (
            _patched(zipped({"solution.py": b"x = 1\n", "notes.txt": b"x"}), b"notes.txt", 6, b"\xff\x00"),
            "cannot be read",
        ),  # needs a zip version newer than zipfile knows: NotImplementedError
        (
            zipped({"solution.py": b"x = 1\n", "Q.txt": b"x"}).replace(b"Q.txt", b"\0.txt"),
            "NUL",
        ),  # zipfile cuts it to ""
    ],
)
def test_a_zip_that_zipfile_chokes_on_is_rejected(tmp_path, raw, message):
    with pytest.raises(Rejected, match=message):
        _accept_zip(tmp_path, raw)
