"""Finds one submission per student in a folder or an LMS export zip.

A folder holds one entry per student, named by the student id: `s123.py`, `s123.ipynb`, `s123.zip` or a folder
`s123/`. An LMS export zip holds the same at its top level (one common wrapping folder is looked through); Moodle's
`Full Name_12345_assignsubmission_file_` folders are named by the number in the middle. Folders are listed and exports
unpacked by intake's rules (`grader/submission_files.py`), as each student's upload is then read.
"""

from __future__ import annotations

import math
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from grader.domain.students import MOODLE_FOLDER, SUBMISSION_SUFFIXES, student_of
from grader.submission_files import IntakeCaps, Rejected, cohort_entries, extract_zip


class BatchSourceError(Exception):
    """The source cannot be read as one submission per student; the message says why."""


@dataclass(frozen=True)
class BatchEntry:
    student: str
    path: Path
    original_name: str


def discover_folder(folder: Path) -> list[BatchEntry]:
    found: dict[str, BatchEntry] = {}
    for path in cohort_entries(folder):
        if path.is_file() and path.suffix.lower() not in SUBMISSION_SUFFIXES:
            continue
        entry = BatchEntry(student=student_of(path.name), path=path, original_name=path.name)
        if entry.student in found:
            raise BatchSourceError(
                f"two submissions for student {entry.student!r}: "
                f"{found[entry.student].original_name} and {path.name}; keep one"
            )
        found[entry.student] = entry
    if not found:
        raise BatchSourceError(f"{folder} holds no submissions (.py, .ipynb, .zip files or one folder per student)")
    return sorted(found.values(), key=lambda e: e.student)


def extract_export(archive: Path, target: Path, max_bytes: int) -> None:
    """Unpack an LMS export by intake's zip rules; its members are uploads, each checked by intake when it is graded."""
    caps = IntakeCaps(
        max_upload_bytes=max_bytes, max_files=sys.maxsize, max_expanded_bytes=max_bytes, max_compression_ratio=math.inf
    )
    try:
        extract_zip(archive, target, caps, validate_text=False)
    except Rejected as rejection:
        raise BatchSourceError(f"{archive.name}: {rejection}") from rejection


def unwrapped(export: Path) -> Path:
    """Exports often wrap everything in one folder; a lone folder that is not itself a submission is looked through."""
    entries = cohort_entries(export)
    if (
        len(entries) == 1
        and entries[0].is_dir()
        and not MOODLE_FOLDER.match(entries[0].name)
        and not any((entries[0] / name).exists() for name in ("solution.py", "solution.ipynb"))
    ):
        return entries[0]
    return export


def discover(source: Path, workdir: Path, max_export_bytes: int) -> list[BatchEntry]:
    """The submissions in `source` (a folder, or an export zip unpacked under `workdir`), sorted by student id."""
    if source.is_dir():
        return discover_folder(source)
    if source.is_file() and zipfile.is_zipfile(source):
        target = workdir / "export"
        target.mkdir(parents=True, exist_ok=True)
        extract_export(source, target, max_export_bytes)
        return discover_folder(unwrapped(target))
    raise BatchSourceError(f"{source} is neither a folder nor an LMS export zip")
