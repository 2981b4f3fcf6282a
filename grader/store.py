"""Immutable, content-addressed submission store: store/<sha[:2]>/<sha>/{original, tree, meta.json}.

A submission is written to a temporary folder and renamed into place in one step, so it is either fully stored
or absent; once stored, its files are made read-only and never rewritten.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from grader.intake import Accepted

T = TypeVar("T")

_syncfs = getattr(ctypes.CDLL(None, use_errno=True), "syncfs", None)


@dataclass(frozen=True)
class StoredSubmission:
    sha256: str
    kind: str
    original_name: str
    size_bytes: int
    entry_kind: str
    path: Path

    @property
    def tree(self) -> Path:
        return self.path / "tree"

    @property
    def original(self) -> Path:
        return self.path / "original"


def submission_dir(store_dir: Path, sha256: str) -> Path:
    return store_dir / sha256[:2] / sha256


@contextmanager
def staging(store_dir: Path) -> Iterator[Path]:
    """A fresh folder on the store's filesystem, so the final rename is atomic; removed afterwards unless stored."""
    path = Path(_make_parents_on_demand(lambda: tempfile.mkdtemp(dir=store_dir / "tmp"), store_dir / "tmp"))
    try:
        yield path
    finally:
        if os.path.lexists(path):
            shutil.rmtree(path, ignore_errors=True)


def original_folder(staging: Path) -> Path:
    """Where an upload can be written straight away, so that storing it needs no copy (see `put`)."""
    folder = staging / "original"
    folder.mkdir(exist_ok=True)
    return folder


def put(store_dir: Path, staging: Path, source: Path, accepted: Accepted, flush: bool = True) -> StoredSubmission:
    """Move an accepted submission into the store: its normalised tree is already in `staging/tree`, and `source` is
    copied to `staging/original` unless it was written there (`original_folder`).

    `flush=False` leaves putting it on disk to the caller, who then calls `flush_store` before relying on it: one call
    for a whole batch of uploads instead of an fsync per file and folder of each."""
    final = submission_dir(store_dir, accepted.sha256)
    stored = StoredSubmission(
        sha256=accepted.sha256,
        kind=accepted.kind,
        original_name=accepted.original_name,
        size_bytes=accepted.size_bytes,
        entry_kind=accepted.entry_kind,
        path=final,
    )
    original = staging / "original"
    if source.parent != original:
        if source.is_dir():
            shutil.copytree(source, original, symlinks=True)
        else:
            original_folder(staging)
            shutil.copyfile(source, original / Path(accepted.original_name).name)
    (staging / "meta.json").write_text(json.dumps(vars(accepted), indent=2), encoding="utf-8")
    if flush:
        _fsync_tree(staging)
    try:
        _make_parents_on_demand(lambda: staging.rename(final), final.parent)
    except OSError:
        if (final / "meta.json").is_file():  # stored before, or concurrently: the content is the same by construction
            return stored
        raise
    if flush:
        _fsync_path(final.parent)  # the rename itself must be on disk before the upload is acknowledged
    _make_read_only(final)
    return stored


def _make_parents_on_demand(action: Callable[[], T], folder: Path) -> T:
    """Run `action`, creating `folder` first only if it is missing: on a busy disk every metadata call costs, and
    the folder exists for all but the first upload into it."""
    try:
        return action()
    except FileNotFoundError:
        folder.mkdir(parents=True, exist_ok=True)
        return action()


def is_stored(store_dir: Path, sha256: str) -> bool:
    return (submission_dir(store_dir, sha256) / "meta.json").is_file()


def get(store_dir: Path, sha256: str) -> StoredSubmission:
    path = submission_dir(store_dir, sha256)
    meta_file = path / "meta.json"
    if not meta_file.is_file():
        raise KeyError(f"no stored submission {sha256}")
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    return StoredSubmission(
        sha256=meta["sha256"],
        kind=meta["kind"],
        original_name=meta["original_name"],
        size_bytes=meta["size_bytes"],
        entry_kind=meta["entry_kind"],
        path=path,
    )


def flush_store(store_dir: Path) -> None:
    """Put everything written to the store's filesystem on disk: Linux's syncfs(2), else a global sync."""
    if _syncfs is None:
        os.sync()
        return
    descriptor = os.open(store_dir, os.O_RDONLY)
    try:
        if _syncfs(descriptor) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"syncfs of {store_dir}: {os.strerror(error)}")
    finally:
        os.close(descriptor)


def _fsync_tree(root: Path) -> None:
    """Flush every file under `root`, then every folder's entries, so the tree survives a power cut once renamed."""
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                _fsync_path(path)
        _fsync_path(folder)


def _fsync_path(path: str | Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _make_read_only(root: Path) -> None:
    for folder, _, files in os.walk(root):
        _drop_write(folder, is_dir=True)
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                _drop_write(path, is_dir=False)


def _drop_write(path: str, is_dir: bool) -> None:
    mode = os.stat(path).st_mode
    os.chmod(
        path,
        mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
        | stat.S_IRUSR
        | stat.S_IRGRP
        | stat.S_IROTH
        | (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH if is_dir else 0),
    )
