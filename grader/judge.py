"""The judge phase: an assignment's hidden checks, run on the host over the data the probe emitted.

This module never imports or runs student code. It reads only plain data: JSON parsed with the standard library and
numeric numpy arrays loaded with ``allow_pickle=False``. That data is hostile: every record is read within the caps of
`probe_records.py`, and anything unreadable makes only its own step fail, with a reason the student may read.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from grader.probe_records import MAX_NPZ_MEMBERS, ReadBudget, Unreadable, read_arrays, read_json
from grader.redaction import replace_surrogates

CHECK_ATTRIBUTE = "__grader_check_id__"
MAX_DETAIL = 2000

# A check over plain data takes milliseconds; past these it is stuck on odd data and must not hold a grading worker.
CHECK_TIME_LIMIT_S = 30.0
JUDGE_TIME_LIMIT_S = 120.0
CHECK_FAILED = "the grader could not complete this check on the data your code produced"
CHECK_TIMED_OUT = "the grader could not finish this check in time"
UNREADABLE = "unreadable"  # the key of the error the grader records for a step whose data it refused to read
_LOADING = threading.Lock()


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
            reason = (
                "the run ran out of time before this part was reached"
                if self.timed_out
                else "this part of the grading never ran (the program stopped before it)"
            )
            raise StepUnavailable(name, reason)
        if not record.ok:
            raise StepUnavailable(name, format_step_error(record.error))
        return record

    @classmethod
    def from_files(cls, files: dict[str, bytes], *, timed_out: bool = False) -> "ProbeData":
        """Parse the files a run left in its output folder; nothing in them makes this raise.

        A record that cannot be read within the caps is a failed step whose error says why (see `format_step_error`).
        """
        budget = ReadBudget()
        steps: dict[str, StepData] = {}
        for filename in files:
            if not filename.endswith(".json") or filename.startswith("_"):
                continue
            try:
                step = _read_step(filename, files, budget)
            except Unreadable as unreadable:
                step = _unreadable_step(filename, str(unreadable))
            except Exception as error:  # a parser broke in a way no cap foresaw: still only this step fails
                step = _unreadable_step(filename, f"reading it failed ({type(error).__name__})")
            if step is not None:
                steps[step.name] = step
        return cls(steps=steps, finished="_done.json" in files, timed_out=timed_out)


def _unreadable_step(filename: str, reason: str) -> StepData:
    return StepData(
        name=filename.removesuffix(".json"), ok=False, values={}, arrays={}, error={UNREADABLE: reason}, duration_s=0.0
    )


def _read_step(filename: str, files: dict[str, bytes], budget: ReadBudget) -> StepData | None:
    name = filename.removesuffix(".json")
    record = read_json(files[filename], budget)
    if type(record) is not dict:
        raise Unreadable("the record is not a JSON object")
    if type(record.get("step")) is not str:
        raise Unreadable("its 'step' is not a string")
    if record["step"] != name:
        return None  # a file named after one step that claims to be another: a forgery, ignored
    ok, values, names = record.get("ok"), record.get("values", {}), record.get("arrays", [])
    error, duration = record.get("error"), record.get("duration_s", 0.0)
    if type(ok) is not bool:
        raise Unreadable("its 'ok' is not true or false")
    if type(values) is not dict:  # JSON object keys are always strings
        raise Unreadable("its 'values' is not an object")
    if type(names) is not list or not all(type(array) is str for array in names):
        raise Unreadable("its 'arrays' is not a list of names")
    if len(names) > MAX_NPZ_MEMBERS:
        raise Unreadable(f"its 'arrays' names more than {MAX_NPZ_MEMBERS} arrays")
    if error is not None and type(error) is not dict:
        raise Unreadable("its 'error' is not an object")
    if type(duration) not in (int, float) or not 0 <= duration <= sys.float_info.max:  # also refuses NaN
        raise Unreadable("its 'duration_s' is not a finite number of seconds")
    arrays = read_arrays(files.get(f"{name}.npz"), names, budget) if names else {}
    return StepData(name=name, ok=ok, values=values, arrays=arrays, error=error, duration_s=float(duration))


def format_step_error(error: dict[str, Any] | None) -> str:
    """A student-facing line for a failed step: the exception their code raised, with their own file and line, or why
    the grader could not read the step's data. Any dict is accepted: a hostile run writes its own."""
    if not isinstance(error, dict) or not error:
        return "this part of your code failed"
    if UNREADABLE in error:
        return f"the data this step produced could not be read: {_field(error[UNREADABLE], 300)}"
    frames = error.get("frames")
    last = frames[-1] if type(frames) is list and frames and type(frames[-1]) is dict else {}
    file = _field(last.get("file"), 200)
    where = f" at {file}:{_field(last.get('line'), 20)} in {_field(last.get('function'), 100)}" if file else ""
    kind = _field(error.get("type"), 100) or "an error"
    return f"your code raised {kind}{where}: {_field(error.get('message'), 500)}".rstrip(": ")


def _field(value: Any, limit: int) -> str:
    if type(value) is int and abs(value) < 10**18:
        return str(value)
    return replace_surrogates(value[:limit]) if type(value) is str else ""


@dataclass(frozen=True)
class CheckOutcome:
    check_id: str
    passed: bool
    student_message: str | None = None  # safe to show the student: why it failed, or the note of a pass
    detail: str | None = None  # instructors only: may contain expected values


@dataclass
class Judge:
    checks: dict[str, CheckFunction] = field(default_factory=dict)
    check_time_limit_s: float = CHECK_TIME_LIMIT_S
    time_limit_s: float = JUDGE_TIME_LIMIT_S  # the whole judge phase

    def run(self, data: ProbeData) -> dict[str, CheckOutcome]:
        deadline = time.monotonic() + self.time_limit_s
        return {
            check_id: _run_in_time(check_id, function, data, min(self.check_time_limit_s, deadline - time.monotonic()))
            for check_id, function in self.checks.items()
        }


def _run_in_time(check_id: str, function: CheckFunction, data: ProbeData, seconds: float) -> CheckOutcome:
    """Run one check in a daemon thread and stop waiting for it after `seconds`.

    A thread, because SIGALRM works only in the main thread and the web app grades in worker threads, and because a
    subprocess would have to re-import the judge and pickle checks that judges and tests define as closures. A Python
    thread cannot be killed: a check past its limit is abandoned and runs on until it returns; the caps on the data
    it reads bound that. Arrays are read-only, so a late check cannot change what later checks see.
    """
    if seconds <= 0:
        return CheckOutcome(
            check_id,
            False,
            student_message=CHECK_TIMED_OUT,
            detail="the judge phase's time limit was spent before this check started",
        )
    result: list[CheckOutcome | BaseException] = []

    def work() -> None:
        try:
            result.append(run_check(check_id, function, data))
        except BaseException as stop:  # KeyboardInterrupt or SystemExit: raised again in the caller's thread
            result.append(stop)

    worker = threading.Thread(target=work, name=f"grader-check-{check_id}", daemon=True)
    worker.start()
    worker.join(seconds)
    if not result:
        return CheckOutcome(
            check_id, False, student_message=CHECK_TIMED_OUT, detail=f"still running after {seconds:.1f} s; abandoned"
        )
    if isinstance(result[0], BaseException):
        raise result[0]
    return result[0]


def run_check(check_id: str, function: CheckFunction, data: ProbeData) -> CheckOutcome:
    try:
        note = function(data)
    except StepUnavailable as unavailable:
        return CheckOutcome(check_id, False, student_message=unavailable.reason, detail=unavailable.reason)
    except Failed as failed:
        return CheckOutcome(check_id, False, student_message=str(failed) or None, detail=str(failed))
    except AssertionError:  # its message may quote the expected value: the rubric's own feedback explains instead
        return CheckOutcome(check_id, False, detail=traceback.format_exc(limit=3)[-MAX_DETAIL:])
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # the check broke on odd data (RecursionError, MemoryError, ...): only it fails
        return CheckOutcome(
            check_id, False, student_message=CHECK_FAILED, detail=traceback.format_exc(limit=3)[-MAX_DETAIL:]
        )
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
    folder = path.parent.resolve()
    with _LOADING:  # sys.path and the helpers' names in sys.modules are shared by every thread
        sys.modules[name] = module  # dataclasses and typing resolve annotations through sys.modules
        sys.path.insert(0, str(folder))  # a judge may import helper modules beside it
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
        finally:
            sys.path.remove(str(folder))
            _forget_helpers(folder)
    return module


def _forget_helpers(folder: Path) -> None:
    """Drop the helper modules a judge imported from its folder from sys.modules: they stay private to it (its
    functions keep them alive), so another judge's helper of the same name is imported from its own folder."""
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if not name.startswith("_grader_judge_") and file and Path(file).resolve().parent == folder:
            del sys.modules[name]
