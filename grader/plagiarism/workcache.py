"""Per-submission preprocessing spread over the cores and remembered on disk by content.

Code units, token filtering and identifier counts are pure functions of one submission's text that cost tens of
milliseconds each in Python: for a cohort of 1,000 they are most of a cold run, and without a cache all of a re-run that
only has a few new submissions to embed. Results are kept per function, keyed by the function's arguments and the
source of the module that defines it, so an edit to that module (or the salt: versions of libraries it relies on)
invalidates them.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import multiprocessing
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

# Below this many items to compute, starting worker processes costs more than it saves.
PARALLEL_FROM = 48

# The job of the current parallel map: forked workers inherit it, so the inputs are never pickled.
_job: tuple[Callable[[Any], Any], Sequence[Any]] | None = None


def _canonical(value: object) -> str:
    """A text for value that is the same in every process (sets are sorted: their order follows the per-process hash seed)."""
    if isinstance(value, str | int | float | bool | bytes) or value is None:
        return repr(value)
    if isinstance(value, frozenset | set):
        return "{" + ",".join(sorted(_canonical(member) for member in value)) + "}"
    if isinstance(value, tuple | list):
        return "(" + ",".join(_canonical(member) for member in value) + ")"
    if isinstance(value, functools.partial):
        keywords = ",".join(f"{name}={_canonical(argument)}" for name, argument in sorted(value.keywords.items()))
        return f"partial({_canonical(value.func)},{_canonical(value.args)},{keywords})"
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{value.__module__}.{value.__qualname__}"
    if dataclasses.is_dataclass(value):
        fields = ",".join(
            f"{field.name}={_canonical(getattr(value, field.name))}" for field in dataclasses.fields(value)
        )
        return f"{type(value).__qualname__}({fields})"
    raise TypeError(f"no stable key for {type(value).__name__}")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def function_version(function: Callable[..., object], salt: str) -> str:
    """Changes when the code that computes the results may have: the defining module's source, Python, the salt."""
    inner = function.func if isinstance(function, functools.partial) else function
    source = inspect.getsource(sys.modules[inner.__module__])
    return _digest(f"{sys.version}\0{salt}\0{source}")


def _run_job(position: int) -> Any:
    assert _job is not None
    function, items = _job
    return function(items[position])


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def can_fork_workers(workers: int | None = None) -> bool:
    return (workers or available_cores()) > 1 and "fork" in multiprocessing.get_all_start_methods()


def parallel_map(
    function: Callable[[Item], Result],
    items: Sequence[Item],
    workers: int | None = None,
    parallel_from: int = PARALLEL_FROM,
) -> list[Result]:
    """[function(item) for item in items], over forked worker processes when there are enough items and cores.

    Forking (not spawning) keeps the inputs and imports shared. A forked copy of a running OpenMP pool hangs, so workers
    must not use a pool the parent started: the per-submission functions use none, and embedding workers only fork from
    a parent that never imported torch (embeddings.py).
    """
    global _job
    workers = workers or available_cores()
    if len(items) < parallel_from or not can_fork_workers(workers):
        return [function(item) for item in items]
    _job = (function, items)
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            return list(pool.map(_run_job, range(len(items)), chunksize=max(1, len(items) // (workers * 8))))
    finally:
        _job = None


def write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """A private temporary file, renamed into place: concurrent runs never see (or write into) a half-written file."""
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.stem, suffix=".tmp", delete=False) as handle:
        write(handle)
    Path(handle.name).replace(path)


def write_version(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """write_atomically a file named NAME-VERSION.SUFFIX, removing the files of NAME's other versions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for outdated in path.parent.glob(f"{path.name.rsplit('-', 1)[0]}-*{path.suffix}"):
        if outdated != path:
            outdated.unlink(missing_ok=True)
    write_atomically(path, write)


class WorkCache:
    """Memoises pure per-item functions on disk (one pickle per function and code version) and computes the rest in parallel.

    The pickles are the grader's own results in its data folder, trusted like the code that wrote them.
    """

    def __init__(self, folder: Path | None):
        self.folder = folder

    def _path(self, function: Callable[..., object], version: str) -> Path | None:
        if self.folder is None:
            return None
        inner = function.func if isinstance(function, functools.partial) else function
        return self.folder / f"{inner.__module__}.{inner.__qualname__}-{version[:16]}.pkl"

    def map(self, function: Callable[[Item], Result], items: Sequence[Item], salt: str = "") -> list[Result]:
        """[function(item) for item in items]: stored results for items seen before, the others computed and stored."""
        version = function_version(function, salt)
        path = self._path(function, version)
        stored = self._load(path) if path is not None else {}
        bound = _canonical(function)  # a partial's arguments: one file serves every assignment's starter
        keys = [_digest(f"{bound}\0{_canonical(item)}") for item in items]
        missing = {key: item for key, item in zip(keys, items) if key not in stored}
        if missing:
            stored.update(zip(missing, parallel_map(function, list(missing.values()))))
            if path is not None:
                self._save(path, stored)
        return [stored[key] for key in keys]

    @staticmethod
    def _load(path: Path) -> dict[str, Any]:
        """The stored results; none when the file is missing or unreadable (it is only a cache)."""
        try:
            with path.open("rb") as handle:
                return pickle.load(handle)
        except (OSError, EOFError, ValueError, pickle.UnpicklingError, AttributeError, ImportError):
            return {}

    @staticmethod
    def _save(path: Path, results: dict[str, Any]) -> None:
        write_version(path, lambda handle: pickle.dump(results, handle, protocol=pickle.HIGHEST_PROTOCOL))
