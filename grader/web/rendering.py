"""Jinja2 rendering with autoescaping; every page gets the viewer and their CSRF token."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


TIME_ZONE_COOKIE = "grader_tz"  # the browser's IANA time zone, set by app.js


def viewer_time_zone(request: Request | None) -> ZoneInfo | None:
    """The viewer's time zone when their browser told it and it is not UTC; an unknown name is ignored."""
    name = unquote(request.cookies.get(TIME_ZONE_COOKIE, "")) if request is not None else ""
    if not name or name in ("UTC", "Etc/UTC"):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@pass_context
def _when(context: Context, value: datetime | None) -> str:
    """UTC, and the viewer's own time beside it: deadlines are read by students in several time zones."""
    if not value:
        return "not set"
    shown = value.strftime("%Y-%m-%d %H:%M UTC")
    zone = viewer_time_zone(context.get("request"))
    if zone is None:
        return shown
    return f"{shown} ({value.astimezone(zone).strftime('%Y-%m-%d %H:%M')} {zone.key})"


def _points(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


@cache  # one per process: a new environment compiles again every template it renders
def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=TEMPLATES_DIR)
    templates.env.filters["when"] = _when
    templates.env.filters["points"] = _points
    return templates


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    context.setdefault("viewer", getattr(request.state, "viewer", None))
    return request.app.state.templates.TemplateResponse(request, template, context, status_code=status_code)
