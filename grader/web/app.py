"""`create_app(settings)`: the FastAPI application, its database, its grading queue and its error pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import swagger_ui_bundle
from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from grader.db.base import make_engine, make_session_factory
from grader.db.migrations import upgrade_to_head
from grader.gradebook.catalog import CourseCatalog
from grader.gradebook.group_commit import SubmissionRecorder
from grader.gradebook.rules import load_course_rules
from grader.queue.select import QueueFactory, select_queue, web_process_queue
from grader.settings import Settings
from grader.store import flush_store
from grader.web import account_pages, api, course_pages, defense_pages, pages, plagiarism_pages, request_pages
from grader.web.auth import NotSignedIn
from grader.web.context import AppContext
from grader.web.errors import ERRORS, upload_error_detail
from grader.web.options import WebOptions
from grader.web.rendering import make_templates, render

WEB_DIR = Path(__file__).resolve().parent


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error_response(request: Request, status: int, title: str, detail: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": title, "detail": detail}, status_code=status)
    return render(request, "error.html", {"title": title, "detail": detail}, status_code=status)


def _install_error_handlers(app: FastAPI, settings: Settings) -> None:
    for error_type, (status, title) in ERRORS.items():

        def handler(request: Request, error: Exception, status: int = status, title: str = title) -> Response:
            return _error_response(request, status, title, upload_error_detail(error, settings))

        app.add_exception_handler(error_type, handler)

    def not_signed_in(request: Request, error: Exception) -> Response:
        if _wants_json(request):
            return JSONResponse(
                {"error": "Not signed in", "detail": "send Authorization: Bearer <token>"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return RedirectResponse("/login", status_code=303)

    app.add_exception_handler(NotSignedIn, not_signed_in)

    async def malformed(request: Request, error: RequestValidationError) -> Response:
        if _wants_json(request):  # the API keeps FastAPI's documented 422 body
            return await request_validation_exception_handler(request, error)
        return _error_response(request, 400, "That did not work", _plain_errors(error))

    app.add_exception_handler(RequestValidationError, malformed)

    def http_error(request: Request, error: StarletteHTTPException) -> Response:
        return _error_response(request, error.status_code, "Request not possible", str(error.detail))

    app.add_exception_handler(StarletteHTTPException, http_error)

    def server_error(request: Request, error: Exception) -> Response:
        return _error_response(
            request, 500, "Something went wrong on our side", "The error was logged; please try again in a minute."
        )

    app.add_exception_handler(Exception, server_error)


def _plain_errors(error: RequestValidationError) -> str:
    """'submission_id: a whole number is needed, not "abc"': which field, what it needs, what it got."""
    parts = []
    for item in error.errors():
        field = item["loc"][-1] if item["loc"] else "request"
        given = f', not "{item["input"]}"' if isinstance(item.get("input"), str) else ""
        parts.append(f"{field}: {item['msg'].lower()}{given}")
    return "; ".join(parts) + ". Check the address or the form and try again."


def _install_api_docs(app: FastAPI) -> None:
    """Swagger UI from the installed swagger-ui-bundle package: the docs work with no internet."""
    app.mount("/api/docs-assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="api-docs-assets")

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> Response:
        return get_swagger_ui_html(
            openapi_url="/api/openapi.json",
            title="grader API",
            swagger_js_url="/api/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/api/docs-assets/swagger-ui.css",
            swagger_favicon_url="/api/docs-assets/favicon-32x32.png",
        )


class SecurityHeaders:
    """Headers every response carries. Plain ASGI: Starlette's `BaseHTTPMiddleware` runs each request through extra
    tasks and streams, a cost an upload burst pays fifty times over."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_api = scope["path"].startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "same-origin")
                # the API docs page loads Swagger UI's assets
                if headers.get("content-type", "").startswith("text/html") and not is_api:
                    headers.setdefault("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(
    settings: Settings, options: WebOptions | None = None, queue_factory: QueueFactory = select_queue
) -> FastAPI:
    options = options or WebOptions()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_to_head(settings.effective_database_url)
    engine = make_engine(settings.effective_database_url)
    session_factory = make_session_factory(engine)
    rules = load_course_rules(settings)
    context = AppContext(
        settings=settings,
        options=options,
        rules=rules,
        session_factory=session_factory,
        queue=queue_factory(settings, session_factory),
        catalog=CourseCatalog(settings, rules),
        recorder=SubmissionRecorder(session_factory, before_commit=lambda: flush_store(settings.store_dir)),
    )
    context.catalog.assignments()  # a due lesson missing from the calendar stops the start, with what to fix

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        context.queue.start()
        try:
            yield
        finally:
            context.recorder.stop()
            context.queue.stop()
            engine.dispose()

    app = FastAPI(
        title="grader",
        summary="Autograder and gradebook: submit, follow grading, read results.",
        lifespan=lifespan,
        docs_url=None,
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.state.context = context
    app.state.templates = make_templates()
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    _install_api_docs(app)
    app.include_router(api.router)  # first: routes are matched in order, and uploads come through the API
    app.include_router(account_pages.router)
    app.include_router(pages.router)
    app.include_router(plagiarism_pages.router)
    app.include_router(request_pages.router)
    app.include_router(defense_pages.router)
    app.include_router(course_pages.router)
    _install_error_handlers(app, settings)

    app.add_middleware(SecurityHeaders)
    return app


def create_served_app() -> FastAPI:
    """The app of one `grader serve` web process (uvicorn imports it by name in each process it starts): settings
    from the environment, grading left to the grading process or to Celery workers."""
    return create_app(Settings(), queue_factory=web_process_queue)
