"""Immutable, content-addressed submission store: store/<sha[:2]>/<sha>/{original, tree, meta.json}.

A submission is written to a temporary folder and renamed into place in one step, so it is either fully stored
or absent; once stored, its files are made read-only and never rewritten.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from grader.intake import Accepted


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


def put(store_dir: Path, source: Path, accepted: Accepted, staged_tree: Path, staging: Path) -> StoredSubmission:
    """Move an accepted submission (its normalised tree already in `staged_tree`, inside `staging`) into the store."""
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
    _fsync_tree(staging)
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        staging.rename(final)
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


def _fsync_tree(root: Path) -> None:
    for file in root.rglob("*"):
        if file.is_file() and not file.is_symlink():
            with file.open("rb") as handle:
                os.fsync(handle.fileno())


def _make_read_only(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) | stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH |
                   (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH if path.is_dir() else 0))
