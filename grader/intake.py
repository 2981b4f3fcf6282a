"""Intake: validate an upload before anything runs, and normalise it into a tree with the entry file at its root.

Every refusal is a `Rejected` whose message tells the student what was wrong and what to submit instead.
"""

from __future__ import annotations

import hashlib
import lzma
import os
import shutil
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import nbformat

from grader.domain.assignment import Assignment, SubmissionKind

TEXT_EXTENSIONS = {".py", ".ipynb", ".txt", ".md", ".rst", ".json", ".jsonl", ".csv", ".tsv", ".yaml", ".yml", ".toml",
                   ".cfg", ".ini", ".svg", ".html", ""}
IGNORED_NAMES = {".DS_Store", "Thumbs.db"}
IGNORED_DIRS = {"__MACOSX", "__pycache__", ".ipynb_checkpoints", ".git"}
CHUNK = 64 * 1024
NAME_NOT_UTF8 = "a file name in the zip is not valid UTF-8; rename it with plain characters"
# What a corrupt member can raise while it is read: zipfile's own errors, and each decompressor's.
EXTRACTION_ERRORS = (zipfile.BadZipFile, EOFError, NotImplementedError, OSError, zlib.error, lzma.LZMAError)


class Rejected(Exception):
    """The submission was refused at intake; str() is the specific, student-facing reason."""


@dataclass(frozen=True)
class IntakeCaps:
    max_upload_bytes: int
    max_files: int
    max_expanded_bytes: int
    max_compression_ratio: float


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
        raise Rejected(f"wrong file type '{suffix or name}': submit a .py file, a Jupyter notebook (.ipynb) or a .zip "
                       "of your project")
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
    size = _checked_size(_size_of(source), caps)
    if kind == "zip":
        _extract_zip(source, tree, assignment, caps)
    else:
        _copy_folder(source, tree, assignment, caps)
    _lift_single_top_folder(tree, assignment.entry)
    entry_kind = _entry_kind(tree, assignment)
    return Accepted(sha256=submission_sha256(source), kind=kind, original_name=original_name, size_bytes=size,
                    entry_kind=entry_kind)


def accept_single_file(content: bytes, original_name: str, assignment: Assignment,
                       caps: IntakeCaps) -> tuple[Accepted, tuple[str, str]]:
    """A lone .py or notebook validated in memory: what `accept` records, and its tree's one file (path, text).

    The web app takes small uploads this way, without writing anything before they are recorded."""
    kind = kind_of_name(original_name)
    if kind not in SINGLE_FILE_KINDS:
        raise ValueError(f"{original_name} is not a single-file submission")
    _check_kind(kind, assignment)
    size = _checked_size(len(content), caps)
    if kind == "py":
        if not assignment.entry_is_python:
            raise Rejected(f"assignment {assignment.id} needs a project with {assignment.entry}: submit a .zip")
        tree_file, entry_kind = (assignment.entry, _decode(content, original_name)), "module"
    else:
        tree_file = ("solution.ipynb", _notebook_text(content, original_name))
        if not _notebook_can_be_the_solution(assignment):
            raise _entry_not_found(assignment, "solution.ipynb")
        entry_kind = "notebook"
    accepted = Accepted(sha256=hashlib.sha256(content).hexdigest(), kind=kind, original_name=original_name,
                        size_bytes=size, entry_kind=entry_kind)
    return accepted, tree_file


def _check_kind(kind: SubmissionKind, assignment: Assignment) -> None:
    if kind not in assignment.kinds:
        accepted = ", ".join(assignment.kinds)
        raise Rejected(f"assignment {assignment.id} does not accept a {kind} submission; it accepts: {accepted}")


def _size_of(source: Path) -> int:
    if source.is_dir():
        return sum(p.stat().st_size for p in source.rglob("*") if p.is_file() and not p.is_symlink())
    return source.stat().st_size


def _checked_size(size: int, caps: IntakeCaps) -> int:
    if size > caps.max_upload_bytes:
        raise Rejected(f"the submission is {size / 1e6:.1f} MB; the limit is {caps.max_upload_bytes / 1e6:.1f} MB "
                       "(leave datasets, checkpoints and virtual environments out)")
    if size == 0:
        raise Rejected("the submission is empty")
    return size


def _decode(content: bytes, name: str) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Rejected(f"'{name}' is not UTF-8 text (byte {error.start}); save it as UTF-8") from error


def _write_text_file(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except FileNotFoundError:  # an entry point in a subfolder
        path.parent.mkdir(parents=True)
        path.write_text(text, encoding="utf-8")


def _notebook_text(content: bytes, name: str) -> str:
    """The notebook as nbformat writes it (v4), after checking it reads and validates."""
    text = _decode(content, name)
    try:
        notebook = nbformat.reads(text, as_version=4)  # converts readable older formats (v3) to v4
    except Exception as error:  # nbformat raises JSON, reader and conversion errors of several types
        raise Rejected(f"'{name}' is not a readable Jupyter notebook: {str(error)[:200]}") from error
    if notebook.nbformat_minor < 5 and any("id" in cell for cell in notebook.cells):
        # Cell ids arrived in format 4.5; editors write them into older declared versions, and Jupyter opens those.
        notebook = nbformat.v4.upgrade(notebook, from_version=4, from_minor=notebook.nbformat_minor)
    try:
        nbformat.validate(notebook)
    except nbformat.ValidationError as error:
        raise Rejected(f"'{name}' is not a valid notebook (nbformat): {error.message[:200]}") from error
    written = nbformat.writes(notebook)
    return written if written.endswith("\n") else written + "\n"  # as nbformat.write ends a file


def _member_name(info: zipfile.ZipInfo) -> str:
    if info.flag_bits & 0x800:
        return info.filename
    raw = info.orig_filename.encode("cp437", errors="strict")  # zipfile decoded a non-UTF-8 name as cp437
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Rejected(NAME_NOT_UTF8) from error


def _safe_relative(name: str) -> PurePosixPath:
    if not name or "\0" in name:  # zipfile cuts names at NUL, then fails on an empty one
        raise Rejected("the zip holds a file name that is empty or has a NUL byte; create it again with a zip tool")
    normalised = name.replace("\\", "/")
    path = PurePosixPath(normalised)
    if normalised.startswith("/") or (len(normalised) > 1 and normalised[1] == ":"):
        raise Rejected(f"the zip holds an absolute path '{name}'; zip your project folder with relative paths")
    if any(part == ".." for part in path.parts):
        raise Rejected(f"the zip holds a path that climbs out of the project ('{name}'); that is not allowed")
    return path


def _skipped(path: PurePosixPath) -> bool:
    return path.name in IGNORED_NAMES or any(part in IGNORED_DIRS for part in path.parts)


def _check_file_type(path: PurePosixPath, assignment: Assignment) -> None:
    suffix = path.suffix.lower()
    if suffix and suffix not in assignment.allowed_extensions:
        allowed = " ".join(assignment.allowed_extensions)
        raise Rejected(f"'{path}' has a file type this assignment does not accept ({suffix}); allowed: {allowed}")


def _extract_zip(source: Path, tree: Path, assignment: Assignment, caps: IntakeCaps) -> None:
    if not zipfile.is_zipfile(source):
        raise Rejected("the .zip file is not a valid zip archive; create it again with your system's 'compress' or "
                       "'zip -r' command")
    try:
        archive = zipfile.ZipFile(source)
    except UnicodeDecodeError as error:  # a name flagged UTF-8 (bit 0x800) is decoded when the zip is opened
        raise Rejected(NAME_NOT_UTF8) from error
    except (zipfile.BadZipFile, OSError, NotImplementedError) as error:  # NotImplemented: a newer zip version
        raise Rejected(f"the .zip file cannot be read: {error}") from error
    with archive:
        members = archive.infolist()
        if len(members) > caps.max_files:
            raise Rejected(f"the zip holds {len(members)} entries; the limit is {caps.max_files}")
        expanded = 0
        for info in members:
            relative = _safe_relative(_member_name(info))
            if stat.S_ISLNK(info.external_attr >> 16):
                raise Rejected(f"the zip holds a symbolic link '{relative}'; include the real file instead")
            if info.is_dir() or _skipped(relative):
                continue
            if info.flag_bits & 0x1:
                raise Rejected(f"'{relative}' in the zip is encrypted; submit an unencrypted zip")
            _check_file_type(relative, assignment)
            target = tree.joinpath(*relative.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            written = 0
            try:
                with archive.open(info) as member, target.open("wb") as out:
                    for block in iter(lambda: member.read(CHUNK), b""):
                        written += len(block)
                        expanded += len(block)
                        if expanded > caps.max_expanded_bytes:
                            raise Rejected(f"the zip expands to more than {caps.max_expanded_bytes / 1e6:.0f} MB "
                                           "(a zip bomb, or data that does not belong in a submission)")
                        if info.compress_size and written > 1e6 and written / info.compress_size > caps.max_compression_ratio:
                            raise Rejected(f"'{relative}' expands more than {caps.max_compression_ratio:.0f}x: the zip "
                                           "looks like a zip bomb")
                        out.write(block)
            except UnicodeDecodeError as error:  # the member's local header flags its name UTF-8, and it is not
                raise Rejected(NAME_NOT_UTF8) from error
            except EXTRACTION_ERRORS as error:
                raise Rejected(f"'{relative}' in the zip cannot be extracted: {error}") from error
            _validate_content(target, relative)


def _copy_folder(source: Path, tree: Path, assignment: Assignment, caps: IntakeCaps) -> None:
    count = 0
    for directory, subdirs, files in os.walk(source, followlinks=False):
        for name in subdirs + files:
            if (Path(directory) / name).is_symlink():
                raise Rejected(f"'{Path(directory, name).relative_to(source)}' is a symbolic link; include the real file")
        subdirs[:] = [d for d in subdirs if d not in IGNORED_DIRS]
        for name in files:
            file = Path(directory) / name
            relative = PurePosixPath(file.relative_to(source).as_posix())
            if _skipped(relative):
                continue
            count += 1
            if count > caps.max_files:
                raise Rejected(f"the folder holds more than {caps.max_files} files")
            _check_file_type(relative, assignment)
            target = tree.joinpath(*relative.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, target)
            _validate_content(target, relative)


def _validate_content(path: Path, relative: PurePosixPath) -> None:
    suffix = relative.suffix.lower()
    if suffix not in TEXT_EXTENSIONS:
        return
    content = path.read_bytes()
    if suffix == ".ipynb":
        path.write_text(_notebook_text(content, str(relative)), encoding="utf-8")
    else:
        _decode(content, str(relative))


def _lift_single_top_folder(tree: Path, entry: str) -> None:
    """A zip of a folder (project/solution.py) is taken as if its content were at the root."""
    if (tree / entry).exists():
        return
    children = list(tree.iterdir())
    if len(children) == 1 and children[0].is_dir():
        top = children[0]
        for child in list(top.iterdir()):
            child.rename(tree / child.name)
        top.rmdir()


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
    return Rejected(f"{assignment.entry} was not found at the top of the submission (found: {found}); put it at the "
                    "root of the zip, or in a single top folder")
