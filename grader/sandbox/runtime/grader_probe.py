"""Probe runtime, imported by an assignment's probe *inside* the sandbox, in the same process as the student's code.

It only turns what the student's code returns into plain data files under $GRADER_OUT (one JSON file, plus one .npz,
per step). It asserts nothing: the verdict is reached later, on the host, by the assignment's judge.
Standard library only at import time; numpy/torch are imported when a probe asks for arrays or seeding.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import random
import re
import signal
import sys
import time
import traceback
import types
from pathlib import Path
from typing import Any, Iterator

# Bound now, before student code runs, so a submission that rebinds json.dumps or open later cannot reroute our writes.
_dumps = json.dumps
_open = open
_replace = os.replace
_perf_counter = time.perf_counter

SUBMISSION_DIR = Path(os.environ.get("GRADER_SUBMISSION", "/submission"))
PROBE_DIR = Path(os.environ.get("GRADER_PROBE", "/probe"))
OUT_DIR = Path(os.environ.get("GRADER_OUT", "/out"))
SEED = int(os.environ.get("GRADER_SEED", "1234"))
DEVICE = os.environ.get("GRADER_DEVICE", "cpu")
ENTRY = os.environ.get("GRADER_ENTRY", "solution.py")

STEP_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_STRING = 1_000_000
MAX_ITEMS = 100_000
_PLAIN_SCALARS = (str, int, float, bool, type(None))
_notebook_namespace: types.ModuleType | None = None


class StepTimeout(Exception):
    """Raised inside a step that ran past its own time budget."""


def device() -> str:
    """'cuda' when the grader passed a GPU through, else 'cpu'."""
    return DEVICE


def data_path(name: str) -> Path:
    """A file shipped with the probe (hidden inputs), under probe/data/."""
    return PROBE_DIR / "data" / name


def read_text(name: str) -> str:
    with _open(data_path(name), encoding="utf-8") as handle:
        return handle.read()


def seed_everything(seed: int = SEED) -> None:
    random.seed(seed)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed(seed)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)


def set_notebook_namespace(namespace: dict[str, Any]) -> None:
    """Called by the notebook driver: the executed notebook's globals stand in for solution.py."""
    global _notebook_namespace
    module = types.ModuleType("solution")
    module.__dict__.update(namespace)
    _notebook_namespace = module


def load_solution() -> types.ModuleType:
    """Import the student's entry module; a crash is recorded as step 'load' and ends the run."""
    if _notebook_namespace is not None:
        sys.modules["solution"] = _notebook_namespace
        _write_step("load", ok=True, values={}, arrays={}, error=None, duration_s=0.0)
        return _notebook_namespace
    # Appended, not prepended: a submission's json.py or pytest.py can never shadow the standard library or the tools.
    sys.path.append(str(SUBMISSION_DIR))
    started = _perf_counter()
    try:
        spec = importlib.util.spec_from_file_location("solution", SUBMISSION_DIR / ENTRY)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {ENTRY}")
        module = importlib.util.module_from_spec(spec)
        sys.modules["solution"] = module
        spec.loader.exec_module(module)
    except BaseException as error:  # SystemExit at import is a failure to load, not a clean finish
        _write_step("load", ok=False, values={}, arrays={}, error=describe_error(error),
                    duration_s=_perf_counter() - started)
        os._exit(3)
    _write_step("load", ok=True, values={}, arrays={}, error=None, duration_s=_perf_counter() - started)
    return module


class Step:
    """Collects the plain values and arrays one step emits."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.values: dict[str, Any] = {}
        self.arrays: dict[str, Any] = {}

    def emit(self, key: str, value: Any) -> None:
        self.values[key] = to_plain(value, key)

    def emit_array(self, key: str, value: Any) -> None:
        self.arrays[key] = to_array(value, key)


@contextlib.contextmanager
def step(name: str, timeout_s: float | None = None) -> Iterator[Step]:
    """Run one probe step: seeded, time-boxed; its data is written as soon as it ends, whatever happens."""
    if not STEP_NAME.match(name):
        raise ValueError(f"bad step name {name!r}")
    current = Step(name)
    seed_everything()
    previous_handler = None
    if timeout_s:
        previous_handler = signal.signal(signal.SIGALRM, _raise_step_timeout)
        signal.setitimer(signal.ITIMER_REAL, timeout_s)
    started = _perf_counter()
    error = None
    try:
        yield current
    except BaseException as raised:  # a step's SystemExit or KeyboardInterrupt must not end the probe
        error = describe_error(raised)
    finally:
        if timeout_s:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous_handler or signal.SIG_DFL)
    _write_step(name, ok=error is None, values=current.values if error is None else {},
                arrays=current.arrays if error is None else {}, error=error, duration_s=_perf_counter() - started)


def done() -> None:
    """The probe's last call: marks that every step ran (a run without it ended early)."""
    _write_json(OUT_DIR / "_done.json", {"done": True})


def _raise_step_timeout(_signum, _frame):
    raise StepTimeout("this step ran past its time budget")


def to_plain(value: Any, where: str, depth: int = 0) -> Any:
    """Exact-type conversion to JSON data: custom objects (always-equal tricks, str subclasses) are refused."""
    if depth > 20:
        raise TypeError(f"{where}: nested too deeply")
    kind = type(value)
    if kind in _PLAIN_SCALARS:
        if kind is str and len(value) > MAX_STRING:
            raise ValueError(f"{where}: string longer than {MAX_STRING} characters")
        return value
    numpy = sys.modules.get("numpy")
    if numpy is not None and kind.__module__ == "numpy" and isinstance(value, numpy.generic):
        return to_plain(value.item(), where, depth + 1)
    if kind in (list, tuple):
        if len(value) > MAX_ITEMS:
            raise ValueError(f"{where}: more than {MAX_ITEMS} items")
        return [to_plain(item, f"{where}[{index}]", depth + 1) for index, item in enumerate(value)]
    if kind is dict:
        if len(value) > MAX_ITEMS:
            raise ValueError(f"{where}: more than {MAX_ITEMS} items")
        plain = {}
        for key, item in value.items():
            if type(key) is not str:
                raise TypeError(f"{where}: dictionary keys must be str, got {type(key).__name__}")
            plain[key] = to_plain(item, f"{where}[{key!r}]", depth + 1)
        return plain
    raise TypeError(f"{where}: expected plain data (str, int, float, bool, None, list, dict), got {kind.__name__}")


def to_array(value: Any, where: str):
    """A numeric numpy array (bool/int/float), never an object array; torch tensors are detached to the CPU first."""
    import numpy

    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().float().numpy() if value.is_floating_point() else value.detach().cpu().numpy()
    array = numpy.array(value, copy=True, subok=False)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{where}: expected a numeric array, got dtype {array.dtype}")
    if array.size > 50_000_000:
        raise ValueError(f"{where}: array too large ({array.size} elements)")
    return array


def describe_error(error: BaseException) -> dict[str, Any]:
    """Exception type, message and only the frames in the student's own files: never the probe's or the grader's."""
    frames = []
    for frame in traceback.extract_tb(error.__traceback__):
        location = _student_location(frame.filename)
        if location is not None:
            frames.append({"file": location, "line": frame.lineno, "function": frame.name})
    message = str(error)
    if isinstance(error, SystemExit):
        message = f"the code called exit({error.code!r})"
    return {"type": type(error).__name__, "message": message[:500], "frames": frames[-5:]}


def _student_location(filename: str) -> str | None:
    path = Path(filename)
    try:
        return str(path.resolve().relative_to(SUBMISSION_DIR.resolve()))
    except (ValueError, OSError):
        pass
    if "ipykernel_" in filename or filename.startswith("<ipython-input"):
        return "notebook cell"
    return None


def _write_step(name, *, ok, values, arrays, error, duration_s) -> None:
    if arrays:
        import numpy

        with _open(OUT_DIR / f"{name}.npz.tmp", "wb") as handle:
            numpy.savez(handle, **arrays)
        _replace(OUT_DIR / f"{name}.npz.tmp", OUT_DIR / f"{name}.npz")
    record = {"step": name, "ok": ok, "values": values, "arrays": sorted(arrays), "error": error,
              "duration_s": round(duration_s, 4)}
    _write_json(OUT_DIR / f"{name}.json", record)


def _write_json(path: Path, record: dict[str, Any]) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with _open(temporary, "w", encoding="utf-8") as handle:
        handle.write(_dumps(record))
    _replace(temporary, path)
