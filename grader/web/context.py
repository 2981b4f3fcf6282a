"""The web app's context: the services' context plus the web knobs (upload parsing, sign-in throttling)."""

from __future__ import annotations

from dataclasses import dataclass

from grader.services.context import ServiceContext
from grader.web.options import WebOptions


@dataclass(frozen=True)
class AppContext(ServiceContext):
    options: WebOptions
