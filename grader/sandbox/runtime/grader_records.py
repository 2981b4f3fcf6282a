"""The records pipe: the driver sends each finished step's record to the runner over a pipe only the two of them hold.

A record is a named file (`<step>.json`, `<step>.npz`, `_done.json`, `_notebook.json`); a later record of the same
name replaces the earlier one. Standard library only.
"""

from __future__ import annotations

import os
import re
import struct
import threading

STEP_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
FILE_NAME = re.compile(r"^_?[a-z][a-z0-9_]{0,63}\.(json|npz)$")
HEADER = struct.Struct("!HI")  # name length, content length
# What one run may send back in all: far more than any probe emits, small enough to keep the grader's memory bounded.
MAX_RECORD_BYTES = 48 * 1024 * 1024

_sent = 0


def fits(size: int) -> bool:
    """Whether a record of `size` bytes still fits in the run's budget (the driver checks before sending)."""
    return _sent + size <= MAX_RECORD_BYTES


def send(name: str, content: bytes) -> None:
    global _sent
    if not FILE_NAME.match(name):
        raise ValueError(f"bad record name {name!r}")
    encoded = name.encode("ascii")
    fd = int(os.environ["GRADER_RECORDS_FD"])
    data = HEADER.pack(len(encoded), len(content)) + encoded + content
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    _sent += len(content)


class RecordReader:
    """The runner's side: drains the pipe in a thread, keeping at most MAX_RECORD_BYTES of records."""

    def __init__(self, fd: int) -> None:
        self.files: dict[str, bytes] = {}
        self.refused: list[str] = []
        self.stream = os.fdopen(fd, "rb", buffering=0)
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _exactly(self, size: int) -> bytes | None:
        chunks, remaining = [], size
        while remaining:
            chunk = self.stream.read(min(remaining, 1 << 20))
            if not chunk:
                return None
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def _drain(self) -> None:
        while True:
            header = self._exactly(HEADER.size)
            if header is None:
                return
            name_size, content_size = HEADER.unpack(header)
            name = self._exactly(name_size)
            if name is None:
                return
            name_text = name.decode("ascii", errors="replace")
            kept = sum(len(content) for key, content in self.files.items() if key != name_text)
            if not FILE_NAME.match(name_text) or kept + content_size > MAX_RECORD_BYTES:
                self.refused.append(name_text[:100])
                if self._skip(content_size) is None:
                    return
                continue
            content = self._exactly(content_size)
            if content is None:
                return
            self.files[name_text] = content

    def _skip(self, size: int) -> int | None:
        while size:
            chunk = self.stream.read(min(size, 1 << 20))
            if not chunk:
                return None
            size -= len(chunk)
        return 0

    def collected(self, timeout_s: float = 5.0) -> tuple[dict[str, bytes], list[str]]:
        self.thread.join(timeout=timeout_s)
        return dict(self.files), list(self.refused)
