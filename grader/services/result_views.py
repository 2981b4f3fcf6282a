"""What a viewer may see of a grading result: criteria hidden until the deadline stay hidden, and the page says how
many points that is. Pure functions over the stored result JSON."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class CriterionView:
    id: str
    title: str
    points: float | None  # None: hidden, or a manual criterion not entered yet
    max_points: float
    feedback: str
    hidden: bool
    manual: bool
    requirements: tuple[str, ...] = ()  # the handout's requirements (R1, ...) behind the points lost


@dataclass(frozen=True)
class NotebookCellView:
    label: str
    first_line: str
    status: str
    message: str


@dataclass(frozen=True)
class ResultView:
    status: str
    message: str
    criteria: tuple[CriterionView, ...]
    shown_points: float
    shown_max: float
    hidden_max: float  # criteria hidden until the deadline
    pending_manual_max: float  # manual criteria an instructor has not entered yet
    stdout: str
    stderr: str
    duration_s: float
    notebook_cells: tuple[NotebookCellView, ...] = ()  # every cell that did not simply run
    assignment: str = ""  # whose handout the requirement links point into


def revealed(deadline: datetime | None, now: datetime) -> bool:
    return deadline is not None and now >= deadline


def _feedback(criterion: dict[str, Any], points: float | None, manual_notes: dict[str, str] | None) -> str:
    if criterion.get("manual") and points is not None:  # no longer "not graded automatically yet"
        return (manual_notes or {}).get(criterion["id"]) or "Entered by an instructor."
    return criterion.get("feedback", "")


def result_view(
    result: dict[str, Any],
    manual_points: dict[str, float],
    deadline: datetime | None,
    now: datetime,
    sees_everything: bool,
    overrides: dict[str, float] | None = None,
    manual_notes: dict[str, str] | None = None,
) -> ResultView:
    """`overrides`: criterion id -> points an instructor set in answer to a regrade request. `manual_notes`: what the
    instructor wrote with a manual criterion's points, shown as its feedback once they are entered."""
    after_deadline_open = sees_everything or revealed(deadline, now)
    criteria = []
    for criterion in result.get("criteria", []):
        hidden = criterion.get("visibility") == "after_deadline" and not after_deadline_open
        manual = bool(criterion.get("manual"))
        points = (
            manual_points.get(criterion["id"])
            if manual
            else (overrides or {}).get(criterion["id"], criterion["points"])
        )
        criteria.append(
            CriterionView(
                id=criterion["id"],
                title=criterion["title"],
                points=None if hidden else points,
                max_points=criterion["max_points"],
                feedback="" if hidden else _feedback(criterion, points, manual_notes),
                hidden=hidden,
                manual=manual,
                requirements=() if hidden else tuple(criterion.get("requirements") or ()),
            )
        )
    shown = [c for c in criteria if not c.hidden and c.points is not None]
    logs = result.get("logs") or {}
    return ResultView(
        status=result["status"],
        message=result.get("message", ""),
        criteria=tuple(criteria),
        shown_points=round(sum(c.points or 0.0 for c in shown), 2),
        shown_max=round(sum(c.max_points for c in shown), 2),
        hidden_max=round(sum(c.max_points for c in criteria if c.hidden), 2),
        pending_manual_max=round(
            sum(c.max_points for c in criteria if c.manual and not c.hidden and c.points is None), 2
        ),
        stdout=logs.get("stdout", ""),
        stderr=logs.get("stderr", ""),
        duration_s=float(result.get("duration_s", 0.0)),
        notebook_cells=tuple(
            NotebookCellView(
                label=cell.get("label") or f"notebook cell {cell['index']}",
                first_line=cell.get("first_line", ""),
                status=cell["status"],
                message=cell.get("message", ""),
            )
            for cell in result.get("notebook_cells") or []
            if cell["status"] != "ok"
        ),
        assignment=result.get("assignment", ""),
    )
