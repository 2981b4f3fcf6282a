"""The assignment as a student reads it in the web app: the handout README rendered, the public rubric and the limits
of the graded run (the handout zip to download: grader/services/handouts.py)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from markdown_it import MarkdownIt
from markupsafe import Markup
from mdit_py_plugins.anchors import anchors_plugin

from grader import course_files
from grader.domain.assignment import Limits
from grader.handout import PublicCriterion, public_criteria
from grader.settings import Settings


@dataclass(frozen=True)
class HandoutView:
    readme_html: Markup  # "" when the assignment has no README
    criteria: tuple[PublicCriterion, ...]
    limits: Limits


def _markdown() -> MarkdownIt:
    # READMEs are written by the course staff, like the templates, and carry requirement anchors (<a id="R1">) as
    # inline HTML, so HTML is kept; the page's Content-Security-Policy still refuses any script.
    return MarkdownIt("commonmark", {"html": True}).enable("table").use(anchors_plugin, max_level=3)


@lru_cache(maxsize=32)
def _rendered(path: Path, modified_ns: int) -> Markup:
    return Markup(_markdown().render(path.read_text(encoding="utf-8")))


def readme_html(settings: Settings, assignment_id: str) -> Markup:
    """Rendered once per version of the file."""
    path = course_files.assignment_paths(settings, assignment_id).handout_readme
    if not path.is_file():
        return Markup("")
    return _rendered(path, path.stat().st_mtime_ns)


def handout_view(settings: Settings, assignment_id: str, limits: Limits) -> HandoutView:
    rubric = course_files.load_rubric(settings, assignment_id)
    return HandoutView(readme_html(settings, assignment_id), tuple(public_criteria(rubric)), limits)
