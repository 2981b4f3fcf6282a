"""Turning folders, .py files, notebooks and .zip projects into submissions: one student's code, several files taken as one.

Each entry is read by intake's rules (`grader/submission_files.py`): the files a graded upload's tree would hold, with
its single top folder lifted, are the files compared."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from grader.plagiarism.notebook import NotebookError, notebook_code
from grader.settings import Settings
from grader.submission_files import (
    IntakeCaps,
    Rejected,
    checked_size,
    cohort_entries,
    copy_folder,
    decode_text,
    extract_zip,
    lift_single_top_folder,
    notebook_text,
    size_of,
)

CODE_SUFFIXES = (".py", ".ipynb")


@dataclass(frozen=True)
class SourceFile:
    path: str  # relative to the submission, POSIX style
    code: str  # Python source (a notebook's code cells)


@dataclass(frozen=True)
class SubmittedCode:
    """One entry's code as the detector compares it (not a gradebook submission: an entry of a folder or archive)."""

    name: str  # relative to the folder it came from
    origin: str  # "cohort" or the archive folder it came from
    files: tuple[SourceFile, ...]

    @property
    def code(self) -> str:
        """All files as one text, in path order, so that a student's files form one submission."""
        return "".join(f"# file: {source.path}\n{source.code}\n" for source in self.files)


@dataclass(frozen=True)
class Skipped:
    name: str
    reason: str


def _intake_caps() -> IntakeCaps:
    """The environment's caps, for callers that hold no settings (the dev-set benchmark); the commands pass theirs."""
    return IntakeCaps.of(Settings())


@dataclass(frozen=True)
class ReadLimits:
    """How much of one entry the detector reads: intake's caps on an upload, then a bound on the code compared."""

    upload: IntakeCaps = field(default_factory=_intake_caps)
    max_file_bytes: int = 2 * 1024 * 1024
    max_code_files: int = 200

    @classmethod
    def of(cls, settings: Settings) -> ReadLimits:
        return cls(upload=IntakeCaps.of(settings))


class Unreadable(ValueError):
    """One submission cannot be read; the message is the reason shown to the instructor."""


def _code_file(path: str, data: bytes, limits: ReadLimits) -> SourceFile:
    if len(data) > limits.max_file_bytes:
        raise Unreadable(f"{path}: {len(data)} bytes, over the {limits.max_file_bytes}-byte limit")
    if not path.lower().endswith(".ipynb"):
        return SourceFile(path=path, code=decode_text(data, path))
    try:
        return SourceFile(path=path, code=notebook_code(notebook_text(data, path)))
    except NotebookError as error:
        raise Unreadable(f"{path}: {error}") from error


def _tree_sources(tree: Path, limits: ReadLimits) -> list[SourceFile]:
    """The code in a tree intake wrote; a .zip in it (an LMS folder holding the student's upload) is read as a project."""
    sources: list[SourceFile] = []
    for path in sorted(tree.rglob("*")):
        relative = path.relative_to(tree).as_posix()
        suffix = path.suffix.lower()
        if not path.is_file():
            continue
        if suffix == ".zip":
            sources.extend(
                SourceFile(f"{relative}/{inner.path}", inner.code) for inner in _project_sources(path, limits)
            )
        elif suffix in CODE_SUFFIXES:
            sources.append(_code_file(relative, path.read_bytes(), limits))
        if len(sources) > limits.max_code_files:
            raise Unreadable(f"more than {limits.max_code_files} code files")
    return sources


def _project_sources(entry: Path, limits: ReadLimits) -> list[SourceFile]:
    """A folder or .zip unpacked as intake unpacks an upload, then its code."""
    checked_size(size_of(entry), limits.upload)
    with tempfile.TemporaryDirectory(prefix="plagiarism-entry-") as folder:
        tree = Path(folder)
        if entry.is_dir():
            copy_folder(entry, tree, limits.upload)
        else:
            extract_zip(entry, tree, limits.upload)
        lift_single_top_folder(tree)
        return _tree_sources(tree, limits)


def read_entry(entry: Path, limits: ReadLimits) -> list[SourceFile]:
    """The code files of one student's entry: a .py, an .ipynb, a .zip project or a folder.

    Raises `Rejected` (intake's reason, as a graded upload would get it) or `Unreadable`."""
    suffix = entry.suffix.lower()
    if entry.is_dir() or suffix == ".zip":
        sources = _project_sources(entry, limits)
    elif suffix in CODE_SUFFIXES:
        data = entry.read_bytes()
        checked_size(len(data), limits.upload)
        sources = [_code_file(entry.name, data, limits)]
    else:
        raise Unreadable(f"unsupported file type {entry.suffix or '(none)'}; expected .py, .ipynb, .zip or a folder")
    sources = [source for source in sources if source.code.strip()]
    if not sources:
        raise Unreadable("no Python code found (.py files or notebook code cells)")
    return sorted(sources, key=lambda source: source.path)


def load_folder(
    folder: Path, origin: str = "cohort", limits: ReadLimits | None = None
) -> tuple[list[SubmittedCode], list[Skipped]]:
    """One submission per file or sub-folder of folder, named by its path relative to folder."""
    limits = limits or ReadLimits()
    submissions: list[SubmittedCode] = []
    skipped: list[Skipped] = []
    for entry in cohort_entries(folder):
        try:
            submissions.append(SubmittedCode(name=entry.name, origin=origin, files=tuple(read_entry(entry, limits))))
        except (Unreadable, Rejected, OSError) as error:
            skipped.append(Skipped(name=entry.name, reason=str(error)))
    return submissions, skipped


def load_paths(
    paths: list[Path], origin: str = "cohort", limits: ReadLimits | None = None
) -> tuple[list[SubmittedCode], list[Skipped]]:
    """Folders contribute one submission per entry; a file given directly is one submission named after itself."""
    limits = limits or ReadLimits()
    submissions: list[SubmittedCode] = []
    skipped: list[Skipped] = []
    for path in paths:
        if path.is_dir():
            found, failed = load_folder(path, origin, limits)
        else:
            found, failed = [], []
            try:
                found = [SubmittedCode(name=path.name, origin=origin, files=tuple(read_entry(path, limits)))]
            except (Unreadable, Rejected, OSError) as error:
                failed = [Skipped(name=path.name, reason=str(error))]
        submissions.extend(found)
        skipped.extend(failed)
    return submissions, skipped
