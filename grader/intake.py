"""Intake: validate an upload before anything runs, and normalise it into a tree with the entry file at its root.

Every refusal is a `Rejected` whose message tells the student what was wrong and what to submit instead. Which files
of a zip or folder are read, and how, is `grader/submission_files.py`'s (batch discovery and plagiarism read by it too).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath

from grader.domain.assignment import Assignment, SubmissionKind
from grader.submission_files import (
    CHUNK,
    IntakeCaps,
    Rejected,
    checked_size,
    copy_folder,
    decode_text,
    extract_zip,
    lift_single_top_folder,
    notebook_text,
    size_of,
)


@dataclass(frozen=True)
class Accepted:
    sha256: str
    kind: SubmissionKind
    original_name: str
    size_bytes: int
    entry_kind: str  # "module" (run the entry file) or "notebook" (solution.ipynb is the whole solution)


def detect_kind(path: Path) -> SubmissionKind:
    if path.is_symlink():
        raise Rejected("the submission is a symbolic link; upload the file itself")
    if path.is_dir():
        return "folder"
    return kind_of_name(path.name)


_KINDS_BY_SUFFIX: dict[str, SubmissionKind] = {".py": "py", ".ipynb": "ipynb", ".zip": "zip"}
SINGLE_FILE_KINDS: tuple[SubmissionKind, ...] = ("py", "ipynb")


def kind_of_name(name: str) -> SubmissionKind:
    """The kind of an uploaded file, from its name."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in _KINDS_BY_SUFFIX:
        raise Rejected(
            f"wrong file type '{suffix or name}': submit a .py file, a Jupyter notebook (.ipynb) or a .zip "
            "of your project"
        )
    return _KINDS_BY_SUFFIX[suffix]


def is_single_file(name: str) -> bool:
    """Whether a file of this name is taken by `accept_single_file` (a .py or a notebook)."""
    return _KINDS_BY_SUFFIX.get(PurePosixPath(name).suffix.lower()) in SINGLE_FILE_KINDS


def submission_sha256(path: Path) -> str:
    """sha256 of the bytes of a file; for a folder, of a manifest of its relative paths and contents."""
    digest = hashlib.sha256()
    if path.is_file():
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(CHUNK), b""):
                digest.update(block)
        return digest.hexdigest()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


def accept(source: Path, original_name: str, assignment: Assignment, caps: IntakeCaps, tree: Path) -> Accepted:
    """Validate `source` and write its normalised tree into the empty folder `tree`."""
    kind = detect_kind(source if source.is_dir() else Path(original_name))
    if kind in SINGLE_FILE_KINDS:
        accepted, (relative, text) = accept_single_file(source.read_bytes(), original_name, assignment, caps)
        _write_text_file(tree / relative, text)
        return accepted
    _check_kind(kind, assignment)
    size = checked_size(size_of(source), caps)
    check_file = partial(_check_file_type, assignment=assignment)
    if kind == "zip":
        extract_zip(source, tree, caps, check_file)
    else:
        copy_folder(source, tree, caps, check_file)
    lift_single_top_folder(tree, assignment.entry)
    entry_kind = _entry_kind(tree, assignment)
    return Accepted(
        sha256=submission_sha256(source), kind=kind, original_name=original_name, size_bytes=size, entry_kind=entry_kind
    )


def accept_single_file(
    content: bytes, original_name: str, assignment: Assignment, caps: IntakeCaps
) -> tuple[Accepted, tuple[str, str]]:
    """A lone .py or notebook validated in memory: what `accept` records, and its tree's one file (path, text).

    The web app takes small uploads this way, without writing anything before they are recorded."""
    kind = kind_of_name(original_name)
    if kind not in SINGLE_FILE_KINDS:
        raise ValueError(f"{original_name} is not a single-file submission")
    _check_kind(kind, assignment)
    size = checked_size(len(content), caps)
    if kind == "py":
        if not assignment.entry_is_python:
            raise Rejected(f"assignment {assignment.id} needs a project with {assignment.entry}: submit a .zip")
        tree_file, entry_kind = (assignment.entry, decode_text(content, original_name)), "module"
    else:
        tree_file = ("solution.ipynb", notebook_text(content, original_name))
        if not _notebook_can_be_the_solution(assignment):
            raise _entry_not_found(assignment, "solution.ipynb")
        entry_kind = "notebook"
    accepted = Accepted(
        sha256=hashlib.sha256(content).hexdigest(),
        kind=kind,
        original_name=original_name,
        size_bytes=size,
        entry_kind=entry_kind,
    )
    return accepted, tree_file


def _check_kind(kind: SubmissionKind, assignment: Assignment) -> None:
    if kind not in assignment.kinds:
        accepted = ", ".join(assignment.kinds)
        raise Rejected(f"assignment {assignment.id} does not accept a {kind} submission; it accepts: {accepted}")


def _write_text_file(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except FileNotFoundError:  # an entry point in a subfolder
        path.parent.mkdir(parents=True)
        path.write_text(text, encoding="utf-8")


def _check_file_type(path: PurePosixPath, assignment: Assignment) -> None:
    suffix = path.suffix.lower()
    if suffix and suffix not in assignment.allowed_extensions:
        allowed = " ".join(assignment.allowed_extensions)
        raise Rejected(f"'{path}' has a file type this assignment does not accept ({suffix}); allowed: {allowed}")


def _entry_kind(tree: Path, assignment: Assignment) -> str:
    if (tree / assignment.entry).is_file():
        return "module"
    notebooks = sorted(tree.glob("*.ipynb"))
    if _notebook_can_be_the_solution(assignment) and len(notebooks) == 1:
        if notebooks[0].name != "solution.ipynb":
            notebooks[0].rename(tree / "solution.ipynb")
        return "notebook"
    found = ", ".join(sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file())[:10]) or "nothing"
    raise _entry_not_found(assignment, found)


def _notebook_can_be_the_solution(assignment: Assignment) -> bool:
    return assignment.entry_is_python and "ipynb" in assignment.kinds


def _entry_not_found(assignment: Assignment, found: str) -> Rejected:
    return Rejected(
        f"{assignment.entry} was not found at the top of the submission (found: {found}); put it at the "
        "root of the zip, or in a single top folder"
    )
