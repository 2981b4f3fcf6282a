"""Multipart upload parsing that enforces the size cap while the body streams in, before anything is spooled whole;
the parsed upload handed to the upload service (grader/services/uploads.py)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncGenerator, Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path, PurePath

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from grader import store
from grader.gradebook.submissions import RecordedSubmission
from grader.intake import is_single_file
from grader.services.uploads import accept_in_memory, record_and_queue, store_staged, submission_of
from grader.store import original_folder
from grader.web.context import AppContext
from grader.web.security import Viewer


class UploadTooLarge(Exception):
    pass


class BadUpload(Exception):
    pass


@dataclass(frozen=True)
class InMemoryUpload:
    """A small .py or notebook, kept in memory: intake validates it there (`accept_single_file`)."""

    original_name: str
    fields: dict[str, str]
    content: bytes


@dataclass(frozen=True)
class StagedUpload:
    """Any other upload, written into a staging folder of the store, where it is stored from without another copy."""

    original_name: str
    fields: dict[str, str]
    staging: Path
    path: Path


ParsedUpload = InMemoryUpload | StagedUpload


async def _capped(request: Request, limit: int) -> AsyncGenerator[bytes, None]:
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise UploadTooLarge()
        yield chunk


def safe_name(name: str) -> str:
    """Keep only the last path component of a client-supplied file name."""
    base = PurePath(name.replace("\\", "/")).name.strip()
    return base or "upload"


async def receive_upload(
    request: Request, max_file_bytes: int, overhead_bytes: int, in_memory_bytes: int, staging: Callable[[], Path]
) -> ParsedUpload:
    """Parse one `file` part (plus small text fields); reject as soon as the body passes the cap.

    A .py or notebook up to `in_memory_bytes` is kept in memory; any other file is written into a staging folder of the
    store, made by `staging` only then."""
    declared = request.headers.get("content-length")
    limit = max_file_bytes + overhead_bytes
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise UploadTooLarge()
    parser = MultiPartParser(request.headers, _capped(request, limit), max_files=1, max_fields=10, max_part_size=4096)
    try:
        form = await parser.parse()
    except MultiPartException as error:
        raise BadUpload(str(error)) from error
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise BadUpload("choose a file to upload")
    try:
        if upload.size is not None and upload.size > max_file_bytes:
            raise UploadTooLarge()
        name = safe_name(upload.filename)
        fields = {key: value for key, value in form.multi_items() if isinstance(value, str)}
        upload.file.seek(0)
        if upload.size is not None and upload.size <= in_memory_bytes and is_single_file(name):
            return InMemoryUpload(name, fields, upload.file.read())
        folder = staging()
        target = original_folder(folder) / name
        with target.open("wb") as out:
            shutil.copyfileobj(upload.file, out)
        return StagedUpload(name, fields, folder, target)
    finally:
        await form.close()


async def receive_and_submit(
    request: Request,
    ctx: AppContext,
    viewer: Viewer,
    assignment_id: str,
    check_fields: Callable[[dict[str, str]], None] = lambda fields: None,
) -> RecordedSubmission:
    """Both upload routes: the body parsed, the form's other fields checked, the upload taken in for the viewer, then
    recorded and queued; returns the committed row, once it is durable."""
    assignment = ctx.assignment(assignment_id)
    with ExitStack() as cleanup:
        parsed = await receive_upload(
            request,
            ctx.settings.max_upload_bytes,
            ctx.options.multipart_overhead_bytes,
            ctx.options.in_memory_upload_bytes,
            lambda: cleanup.enter_context(store.staging(ctx.settings.store_dir)),
        )
        check_fields(parsed.fields)
        if isinstance(parsed, InMemoryUpload):
            accepted = accept_in_memory(ctx.settings, assignment.spec, parsed.content, parsed.original_name)
            new = submission_of(viewer.id, assignment.id, accepted, parsed.content)
        else:  # the recorder flushes the store once for the uploads it commits together
            stored = await run_in_threadpool(
                store_staged,
                ctx.settings,
                assignment.spec,
                parsed.staging,
                parsed.path,
                parsed.original_name,
                flush=False,
            )
            new = submission_of(viewer.id, assignment.id, stored)
    return await record_and_queue(ctx, new)
