"""The student's side of the channel: runs in the student's own process (as the student's uid in Docker) and does what
the driver asks: load the submission, call a function or method on arguments the driver chose, read an attribute.

Nothing here is trusted, and nothing needs to be: the student's code can patch or replace all of it, and can then only
change the replies, which the driver checks as untrusted data. What the grader verifies is computed by the driver
or the judge, never here. Standard library only at import time.
"""

from __future__ import annotations

import argparse
import builtins
import importlib.util
import os
import random
import sys
import traceback
from pathlib import Path
from typing import Any

if __name__ == "__main__":  # run as a script with -I: the runtime's folder is not on the path
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from grader_channel import ChannelClosed, Connection, Decoder, Encoder, connection_from_fd

BUILTINS = {"list": list, "dict": dict, "len": len, "str": str, "repr": repr, "int": int, "float": float, "bool": bool}


class DriverError(Exception):
    """An exception raised by a function of the grader's that the student's code called (a scripted tool)."""


class Host:
    def __init__(self, connection: Connection, submission: Path) -> None:
        self.connection = connection
        self.submission = submission
        self.objects: dict[int, Any] = {}

    def serve(self) -> None:
        while True:
            try:
                header, buffers = self.connection.receive()
            except ChannelClosed:
                return
            if header.get("op") == "exit":
                return
            self.answer(header, buffers)

    def answer(self, header: dict[str, Any], buffers: list[bytes]) -> None:
        try:
            value = self.perform(header, buffers)
            encoder = Encoder(self.keep)
            encoded = encoder.encode(value)
            self.connection.send({"op": "return", "value": encoded}, encoder.buffers)
        except BaseException as error:  # SystemExit and KeyboardInterrupt too: a step's exit must not end the host
            if isinstance(error, ChannelClosed):
                raise
            self.connection.send({"op": "raise", "error": describe_error(error, self.submission)})

    def perform(self, header: dict[str, Any], buffers: list[bytes]) -> Any:
        operation = header.get("op")
        if operation == "load":
            if 0 not in self.objects:  # a notebook's kernel is loaded already: its namespace is object 0
                self.objects[0] = load_module(self.submission, header["entry"])
            return None
        if operation == "seed":
            seed_everything(int(header["seed"]))
            return None
        if operation == "threads":
            import torch

            torch.set_num_threads(int(header["count"]))
            return None
        decoder = Decoder(buffers, self.resolve)
        target = self.resolve(header["target"])
        if operation == "get":
            return target
        if operation == "call":
            args = decoder.decode(header.get("args", []))
            kwargs = decoder.decode(header.get("kwargs", {"$": "dict", "k": [], "v": []}))
            if header.get("no_grad") and "torch" in sys.modules:
                with sys.modules["torch"].no_grad():
                    return target(*args, **kwargs)
            return target(*args, **kwargs)
        if operation == "builtin":
            return BUILTINS[header["name"]](target)
        raise ValueError(f"unknown request {operation!r}")

    def keep(self, value: Any) -> dict[str, Any]:
        number = len(self.objects) + 1
        while number in self.objects:
            number += 1
        self.objects[number] = value
        return {"$": "handle", "id": number, "type": type(value).__name__[:80]}

    def resolve(self, reference: dict[str, Any]) -> Any:
        if reference.get("$") == "local":
            return DriverObject(self, int(reference["id"]), list(reference.get("methods") or []))
        value = self.objects[int(reference["id"])]
        for name in reference.get("path") or []:
            value = getattr(value, name)
        return value

    def callback(self, number: int, method: str | None, args: tuple, kwargs: dict) -> Any:
        encoder = Encoder(self.keep)
        message = {"op": "callback", "id": number, "method": method, "args": encoder.encode(list(args)),
                   "kwargs": encoder.encode(kwargs)}
        self.connection.send(message, encoder.buffers)
        header, buffers = self.connection.receive()
        if header.get("op") == "raise":
            error = header.get("error") or {}
            kind = BUILTIN_EXCEPTIONS.get(str(error.get("type")), DriverError)
            raise kind(str(error.get("message", "")))
        return Decoder(buffers, self.resolve).decode(header.get("value"))


BUILTIN_EXCEPTIONS = {name: value for name, value in vars(builtins).items()
                      if isinstance(value, type) and issubclass(value, Exception)}


class DriverObject:
    """Stands for a function or object of the grader's (a scripted model, a tool) that the student's code may call."""

    def __init__(self, host: Host, number: int, methods: list[str]) -> None:
        self._host, self._number, self._methods = host, number, methods

    def __call__(self, *args, **kwargs):
        return self._host.callback(self._number, None, args, kwargs)

    def __getattr__(self, name: str):
        if name not in self.__dict__.get("_methods", ()):
            raise AttributeError(name)
        return lambda *args, **kwargs: self._host.callback(self._number, name, args, kwargs)


def load_module(submission: Path, entry: str):
    # First on the path, as when the student runs `python solution.py` or pytest from their folder.
    sys.path.insert(0, str(submission))
    spec = importlib.util.spec_from_file_location("solution", submission / entry)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {entry}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["solution"] = module
    spec.loader.exec_module(module)
    return module


def seed_everything(seed: int) -> None:
    random.seed(seed)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed(seed)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)


def describe_error(error: BaseException, submission: Path) -> dict[str, Any]:
    """Exception type, message and only the frames in the student's own files (or notebook cells)."""
    frames = []
    for frame in traceback.extract_tb(error.__traceback__):
        location = student_location(frame.filename, submission)
        if location is not None:
            frames.append({"file": location, "line": frame.lineno, "function": frame.name})
    message = f"the code called exit({error.code!r})" if isinstance(error, SystemExit) else str(error)
    return {"type": type(error).__name__[:80], "message": message[:500], "frames": frames[-5:]}


def student_location(filename: str, submission: Path) -> str | None:
    try:
        return str(Path(filename).resolve().relative_to(submission.resolve()))
    except (ValueError, OSError):
        pass
    if "ipykernel_" in filename or filename.startswith("<ipython-input"):
        return "notebook cell"
    return None


def lower_priority_for_the_oom_killer() -> None:
    """When memory runs out, the kernel should stop the student's process, not the driver's."""
    try:
        with open("/proc/self/oom_score_adj", "w") as handle:
            handle.write("1000")
    except OSError:
        pass


def limit_gpu_memory() -> None:
    """Hold this process to the grading's share of its GPU (GRADER_GPU_MEMORY_FRACTION, set when several gradings
    share one GPU): torch's allocator then raises a CUDA out-of-memory error past it. It bounds torch's allocations,
    not the CUDA context nor other libraries', and code can lift it: it keeps honest gradings apart, it is no wall."""
    fraction = os.environ.get("GRADER_GPU_MEMORY_FRACTION")
    if not fraction or os.environ.get("GRADER_DEVICE") != "cuda":
        return
    import torch

    if torch.cuda.is_available():
        torch.cuda.set_per_process_memory_fraction(float(fraction), 0)


def serve_notebook(namespace: dict[str, Any], socket_path: str, submission: str) -> None:
    """Called from the kernel after the student's cells: the notebook's globals stand in for solution.py."""
    import socket
    import types

    module = types.ModuleType("solution")
    module.__dict__.update({key: value for key, value in namespace.items() if not key.startswith("_")})
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(socket_path)
    host = Host(Connection(sock), Path(submission))
    host.objects[0] = module
    host.serve()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fd", type=int, required=True)
    args = parser.parse_args()
    lower_priority_for_the_oom_killer()
    limit_gpu_memory()
    host = Host(connection_from_fd(args.fd), Path(os.environ["GRADER_SUBMISSION"]))
    host.serve()


if __name__ == "__main__":
    main()
