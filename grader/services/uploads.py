"""An upload taken in for a student: validated, stored (or, small, kept with its row), recorded with its grading job
in the group commit of the moment, and queued."""

from __future__ import annotations

import asyncio
from pathlib import Path

from starlette.concurrency import run_in_threadpool

from grader import intake, store
from grader.gradebook.report import GradebookAssignment
from grader.gradebook.submissions import NewSubmission, RecordedSubmission
from grader.intake import Rejected
from grader.pipeline import accept_staged, intake_caps
from grader.services.access import InvalidInput
from grader.services.context import ServiceContext


def take_in_memory(
    ctx: ServiceContext, student_id: int, assignment: GradebookAssignment, content: bytes, original_name: str
) -> NewSubmission:
    """A small .py or notebook is validated in memory and its bytes go to the gradebook with its row: nothing touches
    the disk before the commit, and the grading process writes it to the store."""
    try:  # the catalog's parsed assignment spares re-reading its YAML on every upload
        accepted, _ = intake.accept_single_file(content, original_name, assignment.spec, intake_caps(ctx.settings))
    except Rejected as error:
        raise InvalidInput(str(error)) from error
    return NewSubmission(
        student_id, assignment.id, accepted.sha256, accepted.kind, accepted.original_name, accepted.size_bytes, content
    )


async def take_in_staged(
    ctx: ServiceContext, student_id: int, assignment: GradebookAssignment, staging: Path, path: Path, original_name: str
) -> NewSubmission:
    """Anything else (a zip, a big file), already written into a staging folder of the store, is stored from there by
    a worker thread, without flushing: the recorder flushes the store once for its batch."""
    try:
        stored: store.StoredSubmission = await run_in_threadpool(
            accept_staged, ctx.settings, assignment.spec, staging, path, original_name, flush=False
        )
    except Rejected as error:
        raise InvalidInput(str(error)) from error
    return NewSubmission(student_id, assignment.id, stored.sha256, stored.kind, stored.original_name, stored.size_bytes)


async def record_and_queue(ctx: ServiceContext, new: NewSubmission) -> RecordedSubmission:
    """The submission and job rows committed with the other uploads of the moment (`SubmissionRecorder`), then the
    job queued; returns the committed row, once it is durable."""
    recorded = await asyncio.wrap_future(ctx.recorder.submit(new))
    ctx.queue.enqueue(recorded.job_id)
    return recorded
