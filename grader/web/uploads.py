"""Multipart upload parsing that enforces the size cap while the body streams in, before anything is spooled whole."""

from __future__ import annotations

import shutil
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from pathlib import Path, PurePath

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from grader.store import original_folder


class UploadTooLarge(Exception):
    pass


class BadUpload(Exception):
    pass


@dataclass(frozen=True)
class ParsedUpload:
    staging: Path  # the store's staging folder it was written into
    path: Path
    original_name: str
    fields: dict[str, str]
    size: int


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


async def receive_upload(request: Request, max_file_bytes: int, overhead_bytes: int, staging: Path) -> ParsedUpload:
    """Parse one `file` part (plus small text fields) into the store's `staging` folder, where it is stored from
    without another copy; reject as soon as the body passes the cap."""
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
        target = original_folder(staging) / name
        with target.open("wb") as out:
            upload.file.seek(0)
            shutil.copyfileobj(upload.file, out)
            out_size = out.tell()
        fields = {key: value for key, value in form.multi_items() if isinstance(value, str)}
        return ParsedUpload(staging, target, name, fields, out_size)
    finally:
        await form.close()
