"""The wire between the trusted driver and the student's process: framed messages of JSON plus raw array buffers.

Both ends import this module, but only the driver's *reading* side is a security boundary: everything the student's
process sends is checked here (frame and header sizes, nesting, array dtypes and shapes against their buffers) before
the driver uses it, and nothing is ever unpickled. Values cross by value when they are plain data of an exact type
(None, bool, int, float, str, bytes, list, tuple, dict, paths, numeric numpy arrays and scalars, torch tensors); any
other object stays in the process that owns it and crosses as a handle (a number), so a custom object can never stand
in for data on the other side. Standard library only at import time; numpy and torch are imported when arrays cross.
"""

from __future__ import annotations

import json
import os
import select
import socket
import struct
import sys
from collections import OrderedDict
from pathlib import PosixPath, PurePosixPath
from typing import Any, Callable

FRAME = struct.Struct("!II")  # header length, number of buffers
BUFFER = struct.Struct("!Q")
MAX_HEADER_BYTES = 16 * 1024 * 1024
MAX_BUFFERS = 4096
# One reply's arrays and bytes together: far above what any probe asks for (the largest, p1's held-out logits, is a few
# MB), low enough that the driver's memory stays bounded whatever the student's process sends.
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
MAX_ARRAY_ELEMENTS = 50_000_000
MAX_DEPTH = 64
WATCH_SLICE_S = 0.05  # how often a waiting receive calls its watch
ARRAY_KINDS = "biuf"


class ChannelError(Exception):
    """The other end sent something malformed or too large, or the wire broke."""


class ChannelClosed(ChannelError):
    """The other end closed the wire (its process ended)."""


class ChannelTimeout(ChannelError):
    """The wait for a message was given up (the step's budget or wall cap was reached)."""


class Handle:
    """An object that stays in the process that owns it; `number` names it there."""

    __slots__ = ("number", "type_name")

    def __init__(self, number: int, type_name: str) -> None:
        self.number = number
        self.type_name = type_name


class Connection:
    """One end of a stream socket, sending and receiving whole messages."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.sock.setblocking(True)

    def send(self, header: dict[str, Any], buffers: list[bytes] = ()) -> None:
        encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
        parts = [FRAME.pack(len(encoded), len(buffers)), encoded]
        for buffer in buffers:
            parts += [BUFFER.pack(len(buffer)), buffer]
        try:
            self.sock.sendall(b"".join(parts))
        except OSError as error:
            raise ChannelClosed(f"the other end is gone ({error})") from error

    def receive(self, watch: Callable[[], None] | None = None) -> tuple[dict[str, Any], list[bytes]]:
        """One whole message, or ChannelTimeout / ChannelClosed / ChannelError. While it waits, `watch` is called every
        WATCH_SLICE_S (and before every read); it raises ChannelTimeout to give up (a step's budget is spent)."""
        header_size, count = FRAME.unpack(self._exactly(FRAME.size, watch))
        if header_size > MAX_HEADER_BYTES or count > MAX_BUFFERS:
            raise ChannelError(f"a message too large ({header_size} header bytes, {count} buffers)")
        raw = self._exactly(header_size, watch)
        buffers, total = [], 0
        for _ in range(count):
            (size,) = BUFFER.unpack(self._exactly(BUFFER.size, watch))
            total += size
            if total > MAX_MESSAGE_BYTES:
                raise ChannelError(f"a reply larger than {MAX_MESSAGE_BYTES // 2**20} MiB")
            buffers.append(self._exactly(size, watch))
        try:
            header = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError) as error:  # RecursionError: nesting deeper than the parser's stack
            raise ChannelError(f"a message that is not valid JSON ({type(error).__name__})") from None
        if type(header) is not dict:
            raise ChannelError("a message that is not a JSON object")
        return header, buffers

    def _exactly(self, size: int, watch: Callable[[], None] | None) -> bytes:
        chunks, remaining = [], size
        while remaining:
            if watch is not None:
                watch()  # also when data keeps coming: a stream of messages cannot keep the check from running
                while not select.select([self.sock], [], [], WATCH_SLICE_S)[0]:
                    watch()
            try:
                chunk = self.sock.recv(min(remaining, 1 << 20))
            except OSError as error:
                raise ChannelClosed(f"the other end is gone ({error})") from error
            if not chunk:
                raise ChannelClosed("the other end closed the connection")
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class Encoder:
    """Turns a value into JSON-able data plus buffers; objects that are not plain data become handles via `keep`."""

    def __init__(self, keep: Callable[[Any], dict[str, Any]]) -> None:
        self.keep = keep
        self.buffers: list[bytes] = []

    def encode(self, value: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            return self.keep(value)
        kind = type(value)
        if value is None or kind in (bool, str):
            return value
        if kind is int:
            return value if -2**63 <= value < 2**63 else {"$": "bigint", "v": str(value)}
        if kind is float:
            finite = value == value and value not in (float("inf"), float("-inf"))
            return value if finite else {"$": "float", "v": repr(value)}
        if kind is list:
            return [self.encode(item, depth + 1) for item in value]
        if kind is tuple:
            return {"$": "tuple", "v": [self.encode(item, depth + 1) for item in value]}
        if kind in (dict, OrderedDict):
            return {"$": "dict", "k": [self.encode(key, depth + 1) for key in value],
                    "v": [self.encode(item, depth + 1) for item in value.values()]}
        if kind in (bytes, bytearray):
            return {"$": "bytes", "b": self._buffer(bytes(value))}
        if kind in (PosixPath, PurePosixPath):
            return {"$": "path", "v": str(value)}
        array = self._as_array(value)
        if array is not None:
            return array
        return self.keep(value)

    def _buffer(self, content: bytes) -> int:
        self.buffers.append(content)
        return len(self.buffers) - 1

    def _as_array(self, value: Any) -> dict[str, Any] | None:
        numpy = sys.modules.get("numpy")
        torch = sys.modules.get("torch")
        if torch is not None and isinstance(value, torch.Tensor):
            tensor = value.detach().cpu()
            dtype = str(tensor.dtype).removeprefix("torch.")
            if tensor.dtype in (torch.bfloat16, torch.float16):
                tensor = tensor.float()
            try:
                array = tensor.contiguous().numpy()
            except (TypeError, RuntimeError):  # complex, quantized, sparse: not numbers the other side accepts
                return None
            if array.dtype.kind not in ARRAY_KINDS:
                return None
            return {"$": "array", "b": self._buffer(array.tobytes()), "dtype": array.dtype.str,
                    "shape": list(array.shape), "tensor": dtype}
        if numpy is None:
            return None
        if type(value) is numpy.ndarray and value.dtype.kind in ARRAY_KINDS:
            array = numpy.ascontiguousarray(value)
            return {"$": "array", "b": self._buffer(array.tobytes()), "dtype": array.dtype.str,
                    "shape": list(array.shape)}
        if isinstance(value, numpy.generic) and type(value).__module__ == "numpy" and value.dtype.kind in ARRAY_KINDS:
            return {"$": "scalar", "dtype": value.dtype.str, "v": self.encode(value.item())}
        return None


class Decoder:
    """The checked inverse of Encoder; `resolve` turns a handle or callback reference into an object of this side."""

    def __init__(self, buffers: list[bytes], resolve: Callable[[dict[str, Any]], Any]) -> None:
        self.buffers = buffers
        self.resolve = resolve

    def decode(self, data: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise ChannelError(f"data nested deeper than {MAX_DEPTH} levels")
        kind = type(data)
        if data is None or kind in (bool, int, float, str):
            return data
        if kind is list:
            return [self.decode(item, depth + 1) for item in data]
        if kind is not dict:
            raise ChannelError(f"unexpected {kind.__name__} in a message")
        tag = data.get("$")
        if tag == "tuple":
            return tuple(self.decode(item, depth + 1) for item in _list(data, "v"))
        if tag == "dict":
            keys, values = _list(data, "k"), _list(data, "v")
            if len(keys) != len(values):
                raise ChannelError("a dictionary with unequal keys and values")
            decoded = {}
            for key, value in zip(keys, values):
                key = self.decode(key, depth + 1)
                try:
                    decoded[key] = self.decode(value, depth + 1)
                except TypeError:  # an unhashable key
                    raise ChannelError("a dictionary key that is not hashable") from None
            return decoded
        if tag == "bigint":
            return int(_text(data, 400, "an integer too large"))
        if tag == "float":
            if data.get("v") not in ("nan", "inf", "-inf"):
                raise ChannelError("a malformed float")
            return float(data["v"])
        if tag == "bytes":
            return self._take(data)
        if tag == "path":
            return PosixPath(_text(data, 4096, "a malformed path"))
        if tag == "array":
            return self._array(data)
        if tag == "scalar":
            import numpy

            dtype = _dtype(data.get("dtype"))
            value = self.decode(data.get("v"), depth + 1)
            if type(value) not in (bool, int, float):
                raise ChannelError("a malformed numpy scalar")
            return numpy.array(value, dtype=dtype)[()]
        if tag in ("handle", "local"):
            return self.resolve(data)
        raise ChannelError(f"an unknown value tag {str(tag)[:20]!r}")

    def _take(self, data: dict[str, Any]) -> bytes:
        index = data.get("b")
        if type(index) is not int or not 0 <= index < len(self.buffers):
            raise ChannelError("a value that points at no buffer")
        return self.buffers[index]

    def _array(self, data: dict[str, Any]):
        import numpy

        dtype = _dtype(data.get("dtype"))
        shape = data.get("shape")
        if type(shape) is not list or len(shape) > 32 or not all(type(n) is int and n >= 0 for n in shape):
            raise ChannelError("an array with a malformed shape")
        count = 1
        for size in shape:
            count *= size
        if count > MAX_ARRAY_ELEMENTS:
            raise ChannelError(f"an array with more than {MAX_ARRAY_ELEMENTS:,} elements")
        content = self._take(data)
        if len(content) != count * dtype.itemsize:
            raise ChannelError("an array whose data does not match its shape")
        array = numpy.frombuffer(content, dtype=dtype).reshape(shape).copy()
        tensor_dtype = data.get("tensor")
        if tensor_dtype is None:
            return array
        if type(tensor_dtype) is not str:
            raise ChannelError("a malformed tensor type")
        import torch

        tensor = torch.from_numpy(array)
        wanted = getattr(torch, tensor_dtype, None)
        if isinstance(wanted, torch.dtype) and wanted != tensor.dtype:
            tensor = tensor.to(wanted)
        return tensor


def _text(data: dict[str, Any], limit: int, problem: str) -> str:
    text = data.get("v")
    if type(text) is not str or len(text) > limit:
        raise ChannelError(problem)
    return text


def _list(data: dict[str, Any], key: str) -> list:
    value = data.get(key)
    if type(value) is not list:
        raise ChannelError("a malformed container")
    return value


def _dtype(text: Any):
    import numpy

    if type(text) is not str or len(text) > 8:
        raise ChannelError("an array with a malformed dtype")
    try:
        dtype = numpy.dtype(text)
    except TypeError:
        raise ChannelError("an array with an unknown dtype") from None
    if dtype.kind not in ARRAY_KINDS or dtype.hasobject:
        raise ChannelError(f"an array of dtype {dtype} (only numbers cross)")
    return dtype


def connection_from_fd(fd: int) -> Connection:
    return Connection(socket.socket(fileno=fd))


def socket_pair() -> tuple[Connection, socket.socket]:
    """The driver's end as a Connection, and the raw end to hand to the student's process."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    os.set_inheritable(theirs.fileno(), True)
    return Connection(ours), theirs
