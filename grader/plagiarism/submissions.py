"""Turning folders, .py files, notebooks and .zip projects into submissions: one student's code, several files taken as one."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.plagiarism.notebook import NotebookError, notebook_code

CODE_SUFFIXES = (".py", ".ipynb")
# Folders that hold tooling or caches, never a student's own code.
_IGNORED_PARTS = {"__MACOSX", "__pycache__", ".ipynb_checkpoints", ".git", ".venv", "venv", "node_modules"}


@dataclass(frozen=True)
class SourceFile:
    path: str  # relative to the submission, POSIX style
    code: str  # Python source (a notebook's code cells)


@dataclass(frozen=True)
class SubmittedCode:
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


@dataclass(frozen=True)
class ReadLimits:
    max_file_bytes: int = 2 * 1024 * 1024
    max_files: int = 200


class Unreadable(ValueError):
    """One submission cannot be read; the message is the reason shown to the instructor."""


def _is_ignored(relative: PurePosixPath) -> bool:
    return any(part in _IGNORED_PARTS or part.startswith(".") for part in relative.parts)


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Unreadable(f"{where}: not UTF-8 text (byte {error.start})") from error


def source_from_bytes(path: str, data: bytes, limits: ReadLimits) -> SourceFile:
    if len(data) > limits.max_file_bytes:
        raise Unreadable(f"{path}: {len(data)} bytes, over the {limits.max_file_bytes}-byte limit")
    text = _decode(data, path)
    if path.endswith(".ipynb"):
        try:
            text = notebook_code(text)
        except NotebookError as error:
            raise Unreadable(f"{path}: {error}") from error
    return SourceFile(path=path, code=text)


def _zip_sources(archive: Path, limits: ReadLimits) -> list[SourceFile]:
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = [info for info in bundle.infolist() if not info.is_dir() and info.filename.endswith(CODE_SUFFIXES)]
            members = [info for info in members if not _is_ignored(PurePosixPath(info.filename))]
            if len(members) > limits.max_files:
                raise Unreadable(f"{len(members)} code files in the archive, over the limit of {limits.max_files}")
            for info in members:
                if info.file_size > limits.max_file_bytes:
                    raise Unreadable(f"{info.filename}: {info.file_size} bytes unpacked, over the limit")
            return [source_from_bytes(info.filename, bundle.read(info), limits) for info in members]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError) as error:
        raise Unreadable(f"not a readable .zip archive ({error})") from error


def _folder_sources(folder: Path, limits: ReadLimits) -> list[SourceFile]:
    sources: list[SourceFile] = []
    for path in sorted(folder.rglob("*")):
        relative = PurePosixPath(path.relative_to(folder).as_posix())
        if not path.is_file() or _is_ignored(relative):
            continue
        if path.suffix == ".zip":
            sources.extend(SourceFile(f"{relative}/{inner.path}", inner.code) for inner in _zip_sources(path, limits))
        elif path.suffix in CODE_SUFFIXES:
            sources.append(source_from_bytes(str(relative), path.read_bytes(), limits))
        if len(sources) > limits.max_files:
            raise Unreadable(f"more than {limits.max_files} code files")
    return sources


def read_entry(entry: Path, limits: ReadLimits) -> list[SourceFile]:
    """The code files of one student's entry: a .py, an .ipynb, a .zip project or a folder."""
    if entry.is_dir():
        sources = _folder_sources(entry, limits)
    elif entry.suffix == ".zip":
        sources = _zip_sources(entry, limits)
    elif entry.suffix in CODE_SUFFIXES:
        sources = [source_from_bytes(entry.name, entry.read_bytes(), limits)]
    else:
        raise Unreadable(f"unsupported file type {entry.suffix or '(none)'}; expected .py, .ipynb, .zip or a folder")
    sources = [source for source in sources if source.code.strip()]
    if not sources:
        raise Unreadable("no Python code found (.py files or notebook code cells)")
    return sorted(sources, key=lambda source: source.path)


def load_folder(folder: Path, origin: str = "cohort", limits: ReadLimits = ReadLimits()) -> tuple[list[SubmittedCode], list[Skipped]]:
    """One submission per file or sub-folder of folder, named by its path relative to folder."""
    entries = sorted(path for path in folder.iterdir() if not _is_ignored(PurePosixPath(path.name)))
    submissions: list[SubmittedCode] = []
    skipped: list[Skipped] = []
    for entry in entries:
        try:
            submissions.append(SubmittedCode(name=entry.name, origin=origin, files=tuple(read_entry(entry, limits))))
        except (Unreadable, OSError) as error:
            skipped.append(Skipped(name=entry.name, reason=str(error)))
    return submissions, skipped


def load_paths(paths: list[Path], origin: str = "cohort", limits: ReadLimits = ReadLimits()) -> tuple[list[SubmittedCode], list[Skipped]]:
    """Folders contribute one submission per entry; a file given directly is one submission named after itself."""
    submissions: list[SubmittedCode] = []
    skipped: list[Skipped] = []
    for path in paths:
        if path.is_dir():
            found, failed = load_folder(path, origin, limits)
        else:
            found, failed = [], []
            try:
                found = [SubmittedCode(name=path.name, origin=origin, files=tuple(read_entry(path, limits)))]
            except (Unreadable, OSError) as error:
                failed = [Skipped(name=path.name, reason=str(error))]
        submissions.extend(found)
        skipped.extend(failed)
    return submissions, skipped
