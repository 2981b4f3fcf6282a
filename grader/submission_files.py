"""The files of a submission as intake reads them: one home for the rules that intake, batch discovery and the plagiarism
detector share.

Which files count (caches, `.git`, `__MACOSX` and virtual environments are left out), how a zip's member names are
decoded and kept inside the tree, the caps on files and expanded bytes, and text files as UTF-8 with notebooks
normalised by nbformat. Intake writes an upload's tree with it, batch discovery unpacks LMS exports with it, and the
plagiarism detector reads each student's entry with it, so all three see the same files.
"""

from __future__ import annotations

import lzma
import os
import shutil
import stat
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import nbformat

from grader.settings import Settings

TEXT_EXTENSIONS = {
    ".py",
    ".ipynb",
    ".txt",
    ".md",
    ".rst",
    ".json",
    ".jsonl",
    ".csv",
    ".tsv",
    ".yaml",
    ".yml",
    ".toml",
    ".cfg",
    ".ini",
    ".svg",
    ".html",
    "",
}
IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}
IGNORED_DIRS = {"__MACOSX", "__pycache__", ".ipynb_checkpoints", ".git", ".venv", "venv", "node_modules"}
VIRTUAL_ENV_MARKER = "pyvenv.cfg"  # a folder holding it is a virtual environment (PEP 405), whatever its name
CHUNK = 64 * 1024
NAME_NOT_UTF8 = "a file name in the zip is not valid UTF-8; rename it with plain characters"
# What a corrupt member can raise while it is read: zipfile's own errors, and each decompressor's.
EXTRACTION_ERRORS = (zipfile.BadZipFile, EOFError, NotImplementedError, OSError, zlib.error, lzma.LZMAError)

FileCheck = Callable[[PurePosixPath], None]


class Rejected(Exception):
    """The submission was refused at intake; str() is the specific, student-facing reason."""


@dataclass(frozen=True)
class IntakeCaps:
    max_upload_bytes: int
    max_files: int
    max_expanded_bytes: int
    max_compression_ratio: float

    @classmethod
    def of(cls, settings: Settings) -> IntakeCaps:
        return cls(
            max_upload_bytes=settings.max_upload_bytes,
            max_files=settings.max_files,
            max_expanded_bytes=settings.max_expanded_bytes,
            max_compression_ratio=settings.max_compression_ratio,
        )


def _any_file(_: PurePosixPath) -> None:
    """Every file type is read (intake narrows this to the assignment's allowed extensions)."""


def checked_size(size: int, caps: IntakeCaps) -> int:
    if size > caps.max_upload_bytes:
        raise Rejected(
            f"the submission is {size / 1e6:.1f} MB; the limit is {caps.max_upload_bytes / 1e6:.1f} MB "
            "(leave datasets, checkpoints and virtual environments out)"
        )
    if size == 0:
        raise Rejected("the submission is empty")
    return size


def size_of(source: Path) -> int:
    if source.is_dir():
        return sum(p.stat().st_size for p in source.rglob("*") if p.is_file() and not p.is_symlink())
    return source.stat().st_size


def decode_text(content: bytes, name: str) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Rejected(f"'{name}' is not UTF-8 text (byte {error.start}); save it as UTF-8") from error


def notebook_text(content: bytes, name: str) -> str:
    """The notebook as nbformat writes it (v4), after checking it reads and validates."""
    text = decode_text(content, name)
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


def is_skipped(path: PurePosixPath) -> bool:
    """Tooling, caches and OS litter, never a student's own files."""
    return path.name in IGNORED_NAMES or any(part in IGNORED_DIRS for part in path.parts)


def cohort_entries(folder: Path) -> list[Path]:
    """The entries of a folder holding one submission per student; hidden names and what intake skips are none."""
    return sorted(
        path
        for path in folder.iterdir()
        if not path.name.startswith(".")
        and not is_skipped(PurePosixPath(path.name))
        and not (path / VIRTUAL_ENV_MARKER).is_file()
    )


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


def _in_virtual_env(path: PurePosixPath, env_roots: set[PurePosixPath]) -> bool:
    return any(parent in env_roots for parent in path.parents)


def extract_zip(
    source: Path, tree: Path, caps: IntakeCaps, check_file: FileCheck = _any_file, validate_text: bool = True
) -> None:
    """Write the zip's files into `tree` by intake's rules; `validate_text` checks text files and normalises notebooks
    (an LMS export, whose members are other students' uploads, leaves that to each upload's own intake)."""
    if not zipfile.is_zipfile(source):
        raise Rejected(
            "the .zip file is not a valid zip archive; create it again with your system's 'compress' or "
            "'zip -r' command"
        )
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
        named = [(info, _safe_relative(_member_name(info))) for info in members]
        env_roots = {relative.parent for _, relative in named if relative.name == VIRTUAL_ENV_MARKER}
        expanded = 0
        for info, relative in named:
            if info.is_dir() or is_skipped(relative) or _in_virtual_env(relative, env_roots):
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                raise Rejected(f"the zip holds a symbolic link '{relative}'; include the real file instead")
            if info.flag_bits & 0x1:
                raise Rejected(f"'{relative}' in the zip is encrypted; submit an unencrypted zip")
            check_file(relative)
            target = tree.joinpath(*relative.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            expanded = _extract_member(archive, info, relative, target, expanded, caps)
            if validate_text:
                _validate_content(target, relative)


def _extract_member(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    relative: PurePosixPath,
    target: Path,
    expanded: int,
    caps: IntakeCaps,
) -> int:
    """Stream one member to `target`, stopping at the caps; the archive's expanded bytes so far come back."""
    written = 0
    try:
        with archive.open(info) as member, target.open("wb") as out:
            for block in iter(lambda: member.read(CHUNK), b""):
                written += len(block)
                expanded += len(block)
                if expanded > caps.max_expanded_bytes:
                    raise Rejected(
                        f"the zip expands to more than {caps.max_expanded_bytes / 1e6:.0f} MB "
                        "(a zip bomb, or data that does not belong in a submission)"
                    )
                if info.compress_size and written > 1e6 and written / info.compress_size > caps.max_compression_ratio:
                    raise Rejected(
                        f"'{relative}' expands more than {caps.max_compression_ratio:.0f}x: the zip "
                        "looks like a zip bomb"
                    )
                out.write(block)
    except UnicodeDecodeError as error:  # the member's local header flags its name UTF-8, and it is not
        raise Rejected(NAME_NOT_UTF8) from error
    except EXTRACTION_ERRORS as error:
        raise Rejected(f"'{relative}' in the zip cannot be extracted: {error}") from error
    return expanded


def copy_folder(source: Path, tree: Path, caps: IntakeCaps, check_file: FileCheck = _any_file) -> None:
    """Copy the folder's files into `tree` by intake's rules, text files checked and notebooks normalised."""
    count = 0
    for directory, subdirs, files in os.walk(source, followlinks=False):
        for name in subdirs + files:
            if (Path(directory) / name).is_symlink():
                raise Rejected(
                    f"'{Path(directory, name).relative_to(source)}' is a symbolic link; include the real file"
                )
        subdirs[:] = [
            d for d in subdirs if d not in IGNORED_DIRS and not Path(directory, d, VIRTUAL_ENV_MARKER).is_file()
        ]
        for name in files:
            file = Path(directory) / name
            relative = PurePosixPath(file.relative_to(source).as_posix())
            if is_skipped(relative):
                continue
            count += 1
            if count > caps.max_files:
                raise Rejected(f"the folder holds more than {caps.max_files} files")
            check_file(relative)
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
        path.write_text(notebook_text(content, str(relative)), encoding="utf-8")
    else:
        decode_text(content, str(relative))


def lift_single_top_folder(tree: Path, entry: str | None = None) -> None:
    """A zip of a folder (project/solution.py) is taken as if its content were at the root (unless `entry` is there)."""
    if entry is not None and (tree / entry).exists():
        return
    children = list(tree.iterdir())
    if len(children) == 1 and children[0].is_dir():
        top = children[0]
        for child in list(top.iterdir()):
            child.rename(tree / child.name)
        top.rmdir()
