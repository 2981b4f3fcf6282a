"""Submissions taken in, for the web, the API and the batch alike: an upload validated (in memory) or stored (from a
path), made a student's `NewSubmission`, then recorded with its grading job and queued. Intake's refusals come out as
`InvalidInput`, with intake's student-facing reason."""

from __future__ import annotations

import asyncio
from pathlib import Path

from grader import intake, store
from grader.domain.assignment import Assignment
from grader.gradebook.submissions import NewSubmission, RecordedSubmission
from grader.intake import Rejected
from grader.pipeline import accept_staged, intake_caps
from grader.services.access import InvalidInput
from grader.services.context import ServiceContext
from grader.settings import Settings


def accept_in_memory(settings: Settings, assignment: Assignment, content: bytes, original_name: str) -> intake.Accepted:
    """A small .py or notebook, validated in memory: nothing touches the disk before its row is committed with the
    bytes, and the grading process writes it to the store."""
    try:
        accepted, _ = intake.accept_single_file(content, original_name, assignment, intake_caps(settings))
    except Rejected as error:
        raise InvalidInput(str(error)) from error
    return accepted


def store_staged(
    settings: Settings, assignment: Assignment, staging: Path, path: Path, original_name: str, *, flush: bool
) -> store.StoredSubmission:
    """An upload already written into a staging folder of the store, stored from there without another copy. Blocking
    (intake unpacks, the store copies): an async caller runs it on a worker thread. `flush=False` when whoever records
    it flushes the store once for many (the web's `SubmissionRecorder`)."""
    try:
        return accept_staged(settings, assignment, staging, path, original_name, flush)
    except Rejected as error:
        raise InvalidInput(str(error)) from error


def store_file(settings: Settings, assignment: Assignment, path: Path, original_name: str) -> store.StoredSubmission:
    """A file or folder anywhere (a batch entry), stored and flushed."""
    with store.staging(settings.store_dir) as staging:
        return store_staged(settings, assignment, staging, path, original_name, flush=True)


def submission_of(
    student_id: int,
    assignment_id: str,
    accepted: intake.Accepted | store.StoredSubmission,
    content: bytes | None = None,
) -> NewSubmission:
    """`content`: the bytes of an upload accepted in memory, recorded with its row since the store lacks them."""
    return NewSubmission(
        student_id, assignment_id, accepted.sha256, accepted.kind, accepted.original_name, accepted.size_bytes, content
    )


async def record_and_queue(ctx: ServiceContext, new: NewSubmission) -> RecordedSubmission:
    """The submission and job rows committed with the other uploads of the moment (`SubmissionRecorder`), then the
    job queued; returns the committed row, once it is durable."""
    recorded = await asyncio.wrap_future(ctx.recorder.submit(new))
    ctx.queue.enqueue(recorded.job_id)
    return recorded
