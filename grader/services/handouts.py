"""The handout zip a student downloads: the same zip as `grader handout <id>`, built once per version of its files
and kept under the data folder."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from grader import course_files
from grader.handout import HANDOUT_PARTS, build_handout
from grader.services.context import ServiceContext

_zip_lock = threading.Lock()


def handout_zip(ctx: ServiceContext, assignment_id: str) -> Path:
    """`NotFound` for an unknown assignment, before any path is built from its id."""
    ctx.assignment(assignment_id)
    settings = ctx.settings
    root = course_files.assignment_paths(settings, assignment_id).root
    version = course_files.tree_hash(
        *(root / part for part in HANDOUT_PARTS), course_files.rubric_path(settings, assignment_id)
    )
    target = settings.data_dir / "handouts" / f"{assignment_id}-{version}.zip"
    with _zip_lock:
        if not target.is_file():
            partial = target.with_suffix(f".{os.getpid()}.part")
            build_handout(settings, assignment_id, partial)
            partial.replace(target)  # another process may build the same zip: each renames a whole file
    return target
