"""Jinja2 rendering with autoescaping; every page gets the viewer and their CSRF token."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "not set"


def _points(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=TEMPLATES_DIR)
    templates.env.filters["when"] = _when
    templates.env.filters["points"] = _points
    return templates


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    context.setdefault("viewer", getattr(request.state, "viewer", None))
    return request.app.state.templates.TemplateResponse(request, template, context, status_code=status_code)
