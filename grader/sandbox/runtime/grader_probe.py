"""Probe runtime: the API an assignment's probe uses, inside the sandbox, in the trusted driver's process.

The student's code never runs in this process. It runs in a process of its own (as another uid in Docker), started
here; the probe reaches it through `load_solution()`, whose result is a `Remote`: attribute access and calls on it
become requests over a socket, and what comes back is either plain data (checked by `channel.Decoder`) or another
`Remote` for an object that stays in the student's process. So the probe chooses every input, measures time with its
own clock, and computes whatever it verifies (losses, probabilities, statistics) from raw outputs itself.

Each `step` writes one record (JSON values plus an .npz of arrays) straight to the runner over a pipe that only this
process holds: nothing the student's process does, during or after a step, can change a record. A step that fails,
times out or loses the student's process fails only the checks that need it; the next step gets a fresh process.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import grader_records as records
from grader_channel import ChannelError
from grader_remote import Remote, Scripted, StepTimeout, Student, StudentError, StudentGone, student_environment, \
    student_identity

__all__ = ["Remote", "Scripted", "StepTimeout", "StudentError", "StudentGone", "student_environment",
           "student_identity"]

SUBMISSION_DIR = Path(os.environ.get("GRADER_SUBMISSION", "/submission"))
PROBE_DIR = Path(os.environ.get("GRADER_PROBE", "/probe"))
SEED = int(os.environ.get("GRADER_SEED", "1234"))
DEVICE = os.environ.get("GRADER_DEVICE", "cpu")
KIND = os.environ.get("GRADER_KIND", "module")

MAX_STRING = 1_000_000
MAX_ITEMS = 100_000
_PLAIN_SCALARS = (str, int, float, bool, type(None))
_student = Student()  # the one student process (or notebook kernel) this run talks to


def device() -> str:
    """'cuda' when the grader passed a GPU through, else 'cpu'."""
    return DEVICE


def budget(name: str) -> float:
    """The assignment's time budget `name` in seconds, for the device this run got: limits.budgets_s in
    assignment.yaml, or limits.gpu.budgets_s on a GPU."""
    budgets = json.loads(os.environ.get("GRADER_BUDGETS") or "{}")
    if name not in budgets:
        raise KeyError(f"assignment.yaml gives no time budget {name!r}: add it under limits.budgets_s")
    return float(budgets[name])


def data_path(name: str) -> Path:
    """A file shipped with the probe (hidden inputs), under probe/data/: readable here, not by the student's uid."""
    return PROBE_DIR / "data" / name


def read_text(name: str) -> str:
    return data_path(name).read_text(encoding="utf-8")


def scratch_folder(prefix: str = "scratch-") -> Path:
    """A new empty folder the student's code may write in (a checkpoint path, a saved index); the driver reads it."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=os.environ.get("GRADER_WORKDIR")))
    folder.chmod(0o777)
    return folder


def fresh_seed() -> int:
    """A seed no submission can predict, for hidden inputs drawn anew in every grading (record it for the judge)."""
    return int.from_bytes(os.urandom(4), "little")


def scramble_random_state() -> None:
    """Reseed the student's global generators unpredictably: code that should depend only on its own `seed`
    argument must not depend on what was drawn before it was called."""
    _student.request({"op": "seed", "seed": fresh_seed()})


def restart_student() -> bool:
    """Stop the student's process so the next call starts a fresh one that imports the submission anew (nothing it
    kept in memory survives: a saved index must really be read back). A notebook's kernel cannot be restarted without
    ending the run, so it stays; returns whether a restart will happen."""
    if KIND == "notebook":
        return False
    _student.stop()
    return True


def is_alive(remote: Remote) -> bool:
    """Whether an object of the student's is still there (not lost with a process stopped in an earlier step)."""
    return remote._number == 0 or remote._generation == _student.generation


def type_name(remote: Remote) -> str:
    """The class name of the student's object a Remote stands for, for records and messages."""
    return remote._type


def on_every_thread(seconds: float) -> float:
    """The CPU budget of a step whose code may compute for `seconds` on each math-library thread of the student's
    process (a training loop that stops at its own wall-clock budget): a step's budget counts CPU seconds, which a
    process on n threads spends n times as fast."""
    return seconds * (_student.torch_threads or int(os.environ.get("OMP_NUM_THREADS") or 1))


def use_torch_threads(count: int) -> None:
    """torch in the student's process (this one and any restarted one) uses `count` threads: a probe that times the
    student's training sets 1, so the time a budget allows does not depend on how busy other cores are."""
    _student.torch_threads = count
    if _student.connection is not None:
        _student.request({"op": "threads", "count": count})


def without_grad(remote: Remote) -> Callable[..., Any]:
    """`without_grad(model)(x)`: the call runs under torch.no_grad() in the student's process (an inference pass)."""
    return remote._call_without_grad


def fetch(remote: Remote) -> Any:
    """The value of a remote attribute (`fetch(model.config.block_size)`): plain data, or another Remote."""
    return _student.request({"op": "get", "target": remote._reference()})


def as_list(remote: Remote) -> list:
    """`list(x)` evaluated in the student's process (a generator of parameters, a sequence of results)."""
    return _builtin("list", remote)


def as_dict(remote: Remote) -> dict:
    """`dict(x)` evaluated in the student's process (a tokenizer's BatchEncoding, a model output)."""
    return _builtin("dict", remote)


def _builtin(name: str, remote: Remote) -> Any:
    return _student.request({"op": "builtin", "name": name, "target": remote._reference()})


def load_solution() -> Remote:
    """Start the student's process and import their entry module (or run their notebook); a failure is recorded as
    step 'load' and ends the run."""
    started = time.perf_counter()
    try:
        if KIND == "notebook":
            import grader_notebook as notebook

            notebook.start(_student)
        else:
            _student.ensure()
    except (StudentError, StudentGone, ChannelError) as error:
        described = error.error if isinstance(error, StudentError) else \
            {"type": type(error).__name__, "message": str(error), "frames": []}
        _write_step("load", ok=False, values={}, arrays={}, error=described, duration_s=time.perf_counter() - started)
        _student.stop()
        os._exit(3)
    _write_step("load", ok=True, values={}, arrays={}, error=None, duration_s=time.perf_counter() - started)
    return Remote(_student, 0, _student.generation, "module")


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
    """Run one probe step: the student's process seeded before its first call; its record is written when it ends. A
    step that never calls the student's code never starts its process. `timeout_s` is the step's budget in CPU
    seconds of the student's processes, whatever the host's load, under a wall-clock cap a few times longer for code
    that waits (grader_step_budget); None: no limit but the run's own."""
    if not records.STEP_NAME.match(name):
        raise ValueError(f"bad step name {name!r}")
    current = Step(name)
    started = time.perf_counter()
    _student.start_budget(timeout_s)
    error = None
    _student.pending_seed = SEED
    try:
        yield current
    except StudentError as raised:
        error = raised.error
        if KIND == "notebook":
            import grader_notebook

            error = grader_notebook.explained(error)
    except Exception as raised:  # the grader could not use what came back, or the process was lost or too slow
        error = {"type": type(raised).__name__, "message": str(raised)[:500], "frames": []}
    finally:
        _student.start_budget(None)
        _student.pending_seed = None
    _write_step(name, ok=error is None, values=current.values if error is None else {},
                arrays=current.arrays if error is None else {}, error=error, duration_s=time.perf_counter() - started)


def done() -> None:
    """The probe's last call: marks that every step ran (a run without it ended early), and ends the student's run."""
    _student.stop()
    records.send("_done.json", b'{"done": true}')


def to_plain(value: Any, where: str, depth: int = 0) -> Any:
    """Exact-type conversion to JSON data; a Remote (an object the student's code returned) is refused."""
    if depth > 20:
        raise TypeError(f"{where}: nested too deeply")
    if isinstance(value, Remote):
        value._not_data()
    kind = type(value)
    if kind in _PLAIN_SCALARS:
        if kind is str and len(value) > MAX_STRING:
            raise ValueError(f"{where}: string longer than {MAX_STRING} characters")
        return value
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, numpy.generic) and kind.__module__ == "numpy":
        return to_plain(value.item(), where, depth + 1)
    if kind in (list, tuple):
        if len(value) > MAX_ITEMS:
            raise ValueError(f"{where}: more than {MAX_ITEMS} items")
        return [to_plain(item, f"{where}[{index}]", depth + 1) for index, item in enumerate(value)]
    if kind is dict:
        if len(value) > MAX_ITEMS:
            raise ValueError(f"{where}: more than {MAX_ITEMS} items")
        if not all(type(key) is str for key in value):
            raise TypeError(f"{where}: dictionary keys must be str")
        return {key: to_plain(item, f"{where}[{key!r}]", depth + 1) for key, item in value.items()}
    raise TypeError(f"{where}: expected plain data (str, int, float, bool, None, list, dict), got {kind.__name__}")


def to_array(value: Any, where: str):
    """A numeric numpy array (bool/int/float); torch tensors are detached to the CPU first."""
    import numpy

    if isinstance(value, Remote):
        value._not_data()
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().float().numpy() if value.is_floating_point() else value.detach().cpu().numpy()
    array = numpy.array(value, copy=True, subok=False)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{where}: expected a numeric array, got dtype {array.dtype}")
    if array.size > 50_000_000:
        raise ValueError(f"{where}: array too large ({array.size} elements)")
    return array


def _write_step(name, *, ok, values, arrays, error, duration_s) -> None:
    if arrays:
        import numpy

        buffer = io.BytesIO()
        numpy.savez(buffer, **arrays)
        array_bytes = buffer.getvalue()
    else:
        array_bytes = b""
    record = {"step": name, "ok": ok, "values": values, "arrays": sorted(arrays), "error": error,
              "duration_s": round(duration_s, 4)}
    encoded = json.dumps(record).encode("utf-8")
    if not records.fits(len(encoded) + len(array_bytes)):
        record = {"step": name, "ok": False, "values": {}, "arrays": [], "duration_s": round(duration_s, 4),
                  "error": {"type": "OutputTooLarge", "frames": [],
                            "message": f"this part produced more data than the grader accepts for a whole run "
                                       f"({records.MAX_RECORD_BYTES // 2**20} MiB)"}}
        encoded, array_bytes = json.dumps(record).encode("utf-8"), b""
    if array_bytes:
        records.send(f"{name}.npz", array_bytes)
    records.send(f"{name}.json", encoded)
