"""The judge phase: an assignment's hidden checks, run on the host over the data the probe emitted.

This module never imports or runs student code. It reads only plain data: JSON parsed with the standard library and
numpy arrays loaded with ``allow_pickle=False``.
"""

from __future__ import annotations

import importlib.util
import io
import json
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import numpy as np

CHECK_ATTRIBUTE = "__grader_check_id__"
MAX_DETAIL = 2000


class StepUnavailable(Exception):
    """The step a check needs failed in the student's code, or never ran (timeout, early exit)."""

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(reason)
        self.step = step
        self.reason = reason


class Failed(AssertionError):
    """A failed check whose message is safe to show the student (it must not reveal hidden inputs or expected values)."""


CheckFunction = Callable[["ProbeData"], "str | None"]


def check(check_id: str) -> Callable[[CheckFunction], CheckFunction]:
    """Mark a judge function as the check ``check_id`` (the id a rubric criterion refers to).

    A check passes by returning. It may return a short note for the reader of the report (what ran, how long),
    which must be as safe to show as a `Failed` message.
    """

    def mark(function: CheckFunction) -> CheckFunction:
        setattr(function, CHECK_ATTRIBUTE, check_id)
        return function

    return mark


@dataclass(frozen=True)
class StepData:
    name: str
    ok: bool
    values: dict[str, Any]
    arrays: dict[str, np.ndarray]
    error: dict[str, Any] | None
    duration_s: float

    def value(self, key: str) -> Any:
        if key not in self.values:
            raise Failed(f"step '{self.name}' did not report '{key}'")
        return self.values[key]

    def array(self, key: str) -> np.ndarray:
        if key not in self.arrays:
            raise Failed(f"step '{self.name}' did not report the array '{key}'")
        return self.arrays[key]


@dataclass(frozen=True)
class ProbeData:
    """Everything one sandboxed run emitted, keyed by step name."""

    steps: dict[str, StepData]
    finished: bool  # the probe reached its end (gp.done())
    timed_out: bool = False

    def step(self, name: str) -> StepData:
        record = self.steps.get(name)
        if record is None:
            reason = "the run ran out of time before this part was reached" if self.timed_out else \
                "this part of the grading never ran (the program stopped before it)"
            raise StepUnavailable(name, reason)
        if not record.ok:
            raise StepUnavailable(name, format_step_error(record.error))
        return record

    @classmethod
    def from_files(cls, files: dict[str, bytes], *, timed_out: bool = False) -> "ProbeData":
        """Parse the files a run left in its output folder; malformed files count as missing steps."""
        steps: dict[str, StepData] = {}
        for filename, content in files.items():
            if not filename.endswith(".json") or filename.startswith("_"):
                continue
            try:
                record = json.loads(content.decode("utf-8"))
                name = record["step"]
                if f"{name}.json" != filename:
                    continue
                arrays = _load_arrays(files.get(f"{name}.npz"), record.get("arrays", []))
                steps[name] = StepData(name=name, ok=bool(record["ok"]) and type(record["ok"]) is bool,
                                       values=record.get("values") or {}, arrays=arrays,
                                       error=record.get("error"), duration_s=float(record.get("duration_s", 0.0)))
            except (ValueError, KeyError, TypeError, UnicodeDecodeError):
                continue
        return cls(steps=steps, finished="_done.json" in files, timed_out=timed_out)


def _load_arrays(content: bytes | None, names: list[str]) -> dict[str, np.ndarray]:
    if not names:
        return {}
    if content is None:
        raise ValueError("declared arrays are missing")
    with np.load(io.BytesIO(content), allow_pickle=False) as archive:
        return {name: archive[name] for name in names if name in archive.files}


def format_step_error(error: dict[str, Any] | None) -> str:
    """A student-facing line for a crash in their code: exception, message, and their own file and line."""
    if not error:
        return "this part of your code failed"
    where = ""
    frames = error.get("frames") or []
    if frames:
        last = frames[-1]
        where = f" at {last.get('file')}:{last.get('line')} in {last.get('function')}"
    return f"your code raised {error.get('type', 'an error')}{where}: {error.get('message', '')}".rstrip(": ")


@dataclass(frozen=True)
class CheckOutcome:
    check_id: str
    passed: bool
    student_message: str | None = None  # safe to show the student: why it failed, or the note of a pass
    detail: str | None = None  # instructors only: may contain expected values


@dataclass
class Judge:
    checks: dict[str, CheckFunction] = field(default_factory=dict)

    def run(self, data: ProbeData) -> dict[str, CheckOutcome]:
        return {check_id: run_check(check_id, function, data) for check_id, function in self.checks.items()}


def run_check(check_id: str, function: CheckFunction, data: ProbeData) -> CheckOutcome:
    try:
        note = function(data)
    except StepUnavailable as unavailable:
        return CheckOutcome(check_id, False, student_message=unavailable.reason, detail=unavailable.reason)
    except Failed as failed:
        return CheckOutcome(check_id, False, student_message=str(failed) or None, detail=str(failed))
    except Exception:  # an assertion (or a malformed value from the student's code) fails only this check
        return CheckOutcome(check_id, False, detail=traceback.format_exc(limit=3)[-MAX_DETAIL:])
    return CheckOutcome(check_id, True, student_message=note if type(note) is str else None)


def load_judge(judge_dir: Path) -> Judge:
    """Import ``judge_dir/judge.py`` under a private module name and collect its checks."""
    module = _import_private(judge_dir / "judge.py")
    checks: dict[str, CheckFunction] = {}
    for value in vars(module).values():
        check_id = getattr(value, CHECK_ATTRIBUTE, None)
        if check_id is None:
            continue
        if check_id in checks:
            raise ValueError(f"{judge_dir}/judge.py defines check '{check_id}' twice")
        checks[check_id] = value
    return Judge(checks=checks)


def _import_private(path: Path) -> ModuleType:
    name = f"_grader_judge_{abs(hash(path.resolve()))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load judge {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and typing resolve annotations through sys.modules
    sys.path.insert(0, str(path.parent))  # a judge may import helper modules beside it
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    finally:
        sys.path.remove(str(path.parent))
    return module
