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
from dataclasses import asdict, dataclass
from pathlib import Path

from grader.intake import Accepted

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


def staging_dir(store_dir: Path) -> Path:
    """A fresh folder on the store's filesystem, so the final rename is atomic."""
    (store_dir / "tmp").mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=store_dir / "tmp"))


def put(store_dir: Path, source: Path, accepted: Accepted, staged_tree: Path, staging: Path,
        flush: bool = True) -> StoredSubmission:
    """Move an accepted submission (its normalised tree already in `staged_tree`, inside `staging`) into the store.

    `flush=False` leaves putting it on disk to the caller, who then calls `flush_store` before relying on it: one call
    for a whole batch of uploads instead of an fsync per file and folder of each."""
    final = submission_dir(store_dir, accepted.sha256)
    if final.exists():
        shutil.rmtree(staging, ignore_errors=True)
        return get(store_dir, accepted.sha256)
    original = staging / "original"
    if source.is_dir():
        shutil.copytree(source, original, symlinks=True)
    else:
        original.mkdir()
        shutil.copyfile(source, original / Path(accepted.original_name).name)
    if staged_tree != staging / "tree":
        staged_tree.rename(staging / "tree")
    meta = {key: value for key, value in asdict(accepted).items()}
    (staging / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    if flush:
        _fsync_tree(staging)
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        staging.rename(final)
        if flush:
            _fsync_path(final.parent)  # the rename itself must be on disk before the upload is acknowledged
    except OSError:  # stored concurrently by another worker: the content is the same by construction
        shutil.rmtree(staging, ignore_errors=True)
    _make_read_only(final)
    return get(store_dir, accepted.sha256)


def get(store_dir: Path, sha256: str) -> StoredSubmission:
    path = submission_dir(store_dir, sha256)
    meta_file = path / "meta.json"
    if not meta_file.is_file():
        raise KeyError(f"no stored submission {sha256}")
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    return StoredSubmission(sha256=meta["sha256"], kind=meta["kind"], original_name=meta["original_name"],
                            size_bytes=meta["size_bytes"], entry_kind=meta["entry_kind"], path=path)


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
    os.chmod(path, mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) | stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH |
             (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH if is_dir else 0))