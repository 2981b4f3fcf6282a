"""The student's process as the driver sees it: started on demand, reached over the channel, restarted after it dies.

`Remote` stands for an object in that process; attribute access and calls on it become requests, and what comes back
is plain data (checked by `grader_channel.Decoder`) or another `Remote`. Functions and `Scripted` objects of the
grader's may be passed to the student's code: their calls come back here as callbacks and run in this process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

from grader_channel import ChannelClosed, ChannelError, ChannelTimeout, Connection, Decoder, Encoder, socket_pair
from grader_step_budget import CpuClock, StepBudget, configured_clock, configured_wall_cap_factor

RUNTIME_DIR = Path(__file__).resolve().parent
ENTRY = os.environ.get("GRADER_ENTRY", "solution.py")


class StepTimeout(Exception):
    """A step used its CPU budget or ran past its wall cap (grader_step_budget); the student's process was stopped."""


class StudentError(Exception):
    """The student's code raised; `error` is its description (type, message, frames in the student's files)."""

    def __init__(self, error: dict[str, Any]) -> None:
        self.error = checked_error(error)
        super().__init__(f"{self.error['type']}: {self.error['message']}")


class StudentGone(Exception):
    """The student's process ended (crash, exit, kill) or cannot be reached."""


class Remote:
    """An object in the student's process. Attributes are resolved there; calling it calls it there."""

    __slots__ = ("_student", "_number", "_generation", "_path", "_type")

    def __init__(self, student: "Student", number: int, generation: int, type_name: str, path: tuple = ()) -> None:
        object.__setattr__(self, "_student", student)
        object.__setattr__(self, "_number", number)
        object.__setattr__(self, "_generation", generation)
        object.__setattr__(self, "_type", type_name)
        object.__setattr__(self, "_path", path)

    def __getattr__(self, name: str) -> "Remote":
        if name.startswith("__"):
            raise AttributeError(name)
        return Remote(self._student, self._number, self._generation, self._type, self._path + (name,))

    def __setattr__(self, name: str, value: Any) -> None:
        raise TypeError("the probe cannot set attributes on the student's objects")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._student.request({"op": "call", "target": self._reference()}, args=args, kwargs=kwargs)

    def _call_without_grad(self, *args: Any, **kwargs: Any) -> Any:
        return self._student.request({"op": "call", "target": self._reference(), "no_grad": True}, args=args,
                                     kwargs=kwargs)

    def _reference(self) -> dict[str, Any]:
        if self._number != 0 and self._generation != self._student.generation:
            raise StudentGone("this object was lost when your program stopped in an earlier step")
        return {"$": "handle", "id": self._number, "path": list(self._path)}

    def _describe(self) -> str:
        return ".".join((f"a {self._type} object", *self._path)) if self._path else f"a {self._type} object"

    def _not_data(self, *_: Any) -> Any:
        raise TypeError(f"your code returned {self._describe()} where the grader expected plain data "
                        "(numbers, strings, lists, tuples, dicts, arrays or tensors)")

    __iter__ = __len__ = __bool__ = __float__ = __int__ = __index__ = __getitem__ = __contains__ = _not_data

    def __repr__(self) -> str:
        return f"<{self._describe()} in the student's process>"


class Student:
    """The student's process: started on first use, and again after it dies (a module is imported afresh)."""

    def __init__(self) -> None:
        self.generation = 0
        self.connection: Connection | None = None
        self.process: subprocess.Popen | None = None
        self.budget: StepBudget | None = None  # the current step's; None: wait as long as it takes
        self.clock: CpuClock | None = None  # made by the first step with a budget, from the runner's settings
        self.locals: list[Any] = []
        self.torch_threads: int | None = None  # applied to every new student process
        self.pending_seed: int | None = None  # sent before the next request: a step that never calls the student's
        # code (a driver-only step) does not start its process
        self.notebook = None  # set by notebook.start for a notebook submission
        self.kernel_pid: int | None = None  # a notebook's kernel, the student's process then

    def request(self, header: dict[str, Any], args: tuple = (), kwargs: dict | None = None) -> Any:
        connection = self.ensure()
        if self.pending_seed is not None and header["op"] != "seed":
            seed, self.pending_seed = self.pending_seed, None
            self.request({"op": "seed", "seed": seed})
        encoder = Encoder(self.keep)
        if header["op"] == "call":
            header = {**header, "args": encoder.encode(list(args)), "kwargs": encoder.encode(kwargs or {})}
        try:
            connection.send(header, encoder.buffers)
            return self.await_reply(connection)
        except ChannelTimeout as spent:
            self.stop()
            raise StepTimeout(str(spent)) from None
        except ChannelClosed:
            code = self.stop(grace_s=1.0)
            raise StudentGone("your program ended during this step"
                              + (f" (exit code {code})" if code is not None else "")) from None
        except ChannelError as error:  # the conversation is out of step: start afresh for the next step
            self.stop()
            raise StudentGone(f"your code sent back {error}, so your program was stopped") from None

    def await_reply(self, connection: Connection) -> Any:
        while True:
            header, buffers = connection.receive(self.budget.check if self.budget is not None else None)
            decoded = Decoder(buffers, self.resolve)
            operation = header.get("op")
            if operation == "return":
                return decoded.decode(header.get("value"))
            if operation == "raise":
                raise StudentError(header.get("error"))
            if operation != "callback":
                raise ChannelError("an unexpected message from the student's process")
            self.answer_callback(connection, header, decoded)

    def answer_callback(self, connection: Connection, header: dict[str, Any], decoded: Decoder) -> None:
        number, method = header.get("id"), header.get("method")
        if type(number) is not int or not 0 <= number < len(self.locals):
            raise ChannelError("a call back to an object the grader never passed")
        target = self.locals[number]
        try:
            if method is not None:
                if type(method) is not str or method.startswith("_"):
                    raise AttributeError("no such method")
                target = getattr(target, method)
            args = decoded.decode(header.get("args", []))
            kwargs = _keyword_arguments(decoded.decode(header.get("kwargs", {"$": "dict", "k": [], "v": []})))
            value = target(*args, **kwargs)
            encoder = Encoder(_refuse_objects)
            connection.send({"op": "return", "value": encoder.encode(value)}, encoder.buffers)
        except ChannelError:
            raise
        except Exception as error:  # the grader's tool failed on purpose (a flaky service) or on bad arguments
            connection.send({"op": "raise", "error": {"type": type(error).__name__, "message": str(error)[:500]}})

    def keep(self, value: Any) -> dict[str, Any]:
        if isinstance(value, Remote):
            return value._reference()
        if callable(value) or isinstance(value, Scripted):
            self.locals.append(value)
            methods = [name for name in dir(value) if not name.startswith("_") and callable(getattr(value, name))] \
                if isinstance(value, Scripted) else []
            return {"$": "local", "id": len(self.locals) - 1, "methods": methods}
        raise TypeError(f"the probe cannot pass a {type(value).__name__} to the student's code")

    def resolve(self, reference: dict[str, Any]) -> Remote:
        if reference.get("$") != "handle" or type(reference.get("id")) is not int:
            raise ChannelError("a malformed object reference")
        type_name = reference.get("type")
        return Remote(self, reference["id"], self.generation, type_name[:80] if type(type_name) is str else "?")

    def ensure(self) -> Connection:
        if self.connection is not None:
            return self.connection
        if self.notebook is not None:
            raise StudentGone("the notebook's kernel was stopped in an earlier step")
        ours, theirs = socket_pair()
        self.process = subprocess.Popen(
            [sys.executable, "-I", str(RUNTIME_DIR / "grader_student.py"), "--fd", str(theirs.fileno())],
            pass_fds=[theirs.fileno()], cwd=os.environ.get("GRADER_WORKDIR"), env=student_environment(),
            stdin=subprocess.DEVNULL, start_new_session=True, **student_identity())
        theirs.close()
        self.connection = ours
        try:
            ours.send({"op": "load", "entry": ENTRY})
            self.await_reply(ours)
            self.apply_torch_threads(ours)
        except ChannelTimeout as spent:
            self.stop()
            raise StepTimeout(f"while your program was being imported, {spent}") from None
        except ChannelError:
            self.stop()
            raise StudentGone("your program ended while it was being imported") from None
        except StudentError:
            self.stop()
            raise
        return ours

    def attach(self, connection: Connection, stop: Callable[[], int | None], kernel_pid: int | None) -> None:
        """A notebook's kernel: already loaded, and never restarted."""
        self.connection = connection
        self.notebook = stop
        self.kernel_pid = kernel_pid
        self.apply_torch_threads(connection)

    def leader(self) -> int | None:
        """The student's current process (its session's leader), whose session the local sandbox's clock counts."""
        return self.process.pid if self.process is not None else self.kernel_pid

    def start_budget(self, cpu_s: float | None) -> None:
        """The next requests are charged to a step of `cpu_s` CPU seconds (None: no limit)."""
        if not cpu_s:
            self.budget = None
            return
        if self.clock is None:
            self.clock = configured_clock(self.leader)
        self.budget = StepBudget(cpu_s, configured_wall_cap_factor(), self.clock)

    def apply_torch_threads(self, connection: Connection) -> None:
        """Give a newly loaded process the probe's torch thread count, if it set one."""
        if self.torch_threads is not None:
            connection.send({"op": "threads", "count": self.torch_threads})
            self.await_reply(connection)

    def stop(self, grace_s: float = 0.0) -> int | None:
        """Stop the student's process (and everything in its session) after `grace_s` to end by itself; returns its
        exit code when it ended by itself."""
        self.generation += 1  # every handle into the stopped process is stale from now on, even before a restart
        if self.connection is not None:
            with contextlib.suppress(ChannelError):
                self.connection.send({"op": "exit"})
            self.connection.close()
            self.connection = None
        if self.notebook is not None:
            return self.notebook()
        process, self.process = self.process, None
        if process is None:
            return None
        try:
            code = process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            code = None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return code


class Scripted:
    """Base of a grader object the student's code may call methods of (a scripted language model); public methods
    cross as callbacks, and their calls run here, where the probe counts and records them."""


def _refuse_objects(value: Any) -> dict[str, Any]:
    raise TypeError(f"a grader callback returned a {type(value).__name__}, not plain data")


def _keyword_arguments(value: Any) -> dict[str, Any]:
    if type(value) is not dict or not all(type(key) is str for key in value):
        raise TypeError("keyword arguments must be a dict with str keys")
    return value


def checked_error(error: Any) -> dict[str, Any]:
    """An error description from the student's process, reduced to what the judge's messages use."""
    if type(error) is not dict:
        return {"type": "Error", "message": "your code failed", "frames": []}
    frames = []
    for frame in error.get("frames") if type(error.get("frames")) is list else []:
        if type(frame) is dict and type(frame.get("line")) is int:
            frames.append({"file": str(frame.get("file"))[:200], "line": frame["line"],
                           "function": str(frame.get("function"))[:100]})
    return {"type": str(error.get("type"))[:80], "message": str(error.get("message"))[:500], "frames": frames[-5:]}


def student_environment() -> dict[str, str]:
    """The student's process gets the sandbox's ordinary variables, not the driver's (no probe path, no pipe fds),
    and tool folders of its own in its writable working folder (the driver's belong to another uid)."""
    hidden = ("GRADER_PROBE", "GRADER_RECORDS_FD", "GRADER_STUDENT_UID", "GRADER_KIND")
    environment = {key: value for key, value in os.environ.items() if key not in hidden}
    home = os.environ.get("GRADER_WORKDIR", os.environ.get("HOME", "."))
    own = {"IPYTHONDIR": ".ipython", "MPLCONFIGDIR": ".matplotlib", "JUPYTER_RUNTIME_DIR": ".jupyter-runtime"}
    return {**environment, "HOME": home, **{key: os.path.join(home, folder) for key, folder in own.items()}}


def student_identity() -> dict[str, Any]:
    """In Docker the driver is root with a few capabilities and the student's code runs as another uid, with none."""
    uid = os.environ.get("GRADER_STUDENT_UID")
    if not uid:
        return {}
    return {"user": int(uid), "group": int(uid), "extra_groups": []}
