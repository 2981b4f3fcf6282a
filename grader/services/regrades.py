"""Regrades, for the pages and the API: start one, preview old → new points, publish it, list them all. A
superseded batch (see grader/gradebook/regrades.py) cannot be published."""

from __future__ import annotations

from dataclasses import dataclass

from grader.db.models import User
from grader.gradebook.compute import Standing
from grader.gradebook.extensions import extension_days
from grader.gradebook.plagiarism_flags import plagiarism_flags
from grader.gradebook.regrades import BatchSummary
from grader.gradebook.report import student_standing
from grader.services.access import Caller, InvalidInput, NotFound, require_instructor
from grader.services.context import ServiceContext


@dataclass(frozen=True)
class RegradeChange:
    student: User
    old: float | None
    new: float | None


@dataclass(frozen=True)
class RegradeStatus:
    batch_id: int
    assignment_id: str
    total_jobs: int
    done_jobs: int
    published: bool
    superseded_by: int | None  # a later published batch regraded the same submissions: this one cannot be published
    changes: tuple[RegradeChange, ...]

    @property
    def finished(self) -> bool:
        return self.done_jobs == self.total_jobs


def start_regrade(ctx: ServiceContext, caller: Caller, assignment_id: str, submission_id: int | None) -> int:
    require_instructor(caller)
    ctx.assignment(assignment_id)
    with ctx.unit_of_work() as gradebook:
        if submission_id is None:
            targets = gradebook.submissions.submissions_for_assignment(assignment_id)
        else:
            submission = gradebook.submissions.submission(submission_id)
            if submission is None or submission.assignment_id != assignment_id:
                raise NotFound("no such submission")
            targets = [submission]
        if not targets:
            raise InvalidInput(f"{assignment_id} has no submissions to regrade")
        batch, job_ids = gradebook.regrades.start(assignment_id, targets, gradebook.accounts.user(caller.id))
        batch_id = batch.id
    for job_id in job_ids:
        ctx.queue.enqueue(job_id)
    return batch_id


def regrade_status(ctx: ServiceContext, caller: Caller, batch_id: int) -> RegradeStatus:
    """Per student: the project points now and what they would become once this regrade is published."""
    require_instructor(caller)
    assignments = ctx.assignments()
    with ctx.unit_of_work() as gradebook:
        batch = gradebook.regrades.batch(batch_id)
        summary = gradebook.regrades.summary(batch_id)
        if batch is None or summary is None:
            raise NotFound("no such regrade")
        jobs = gradebook.regrades.jobs(batch_id)
        overlay = gradebook.regrades.records(batch_id)
        flags = plagiarism_flags(gradebook.session)
        students = {job.submission.user_id: job.submission.user for job in jobs}
        snapshot = gradebook.submissions.snapshot(list(students))
        extensions = extension_days(gradebook, list(students))
        changes = []
        for student in sorted(students.values(), key=lambda user: user.email):
            old = student_standing(snapshot, student, assignments, ctx.rules, flags, extensions)
            new = student_standing(snapshot, student, assignments, ctx.rules, flags, extensions, overlay)
            changes.append(
                RegradeChange(
                    student, _project_points(old, batch.assignment_id), _project_points(new, batch.assignment_id)
                )
            )
        return RegradeStatus(
            batch.id,
            batch.assignment_id,
            summary.total_jobs,
            summary.done_jobs,
            batch.published_at is not None,
            summary.superseded_by,
            tuple(changes),
        )


def _project_points(standing: Standing, assignment_id: str) -> float | None:
    return next(project.points for project in standing.projects if project.assignment_id == assignment_id)


def publish_regrade(ctx: ServiceContext, caller: Caller, batch_id: int) -> None:
    require_instructor(caller)
    with ctx.unit_of_work() as gradebook:
        batch = gradebook.regrades.batch(batch_id)
        summary = gradebook.regrades.summary(batch_id)
        if batch is None or summary is None:
            raise NotFound("no such regrade")
        if batch.published_at is not None:
            raise InvalidInput("this regrade is already published")
        if summary.superseded_by is not None:
            raise InvalidInput(
                f"regrade #{batch_id} is superseded: regrade #{summary.superseded_by} of the same "
                "submissions was published after it, and publishing this one would not change their "
                "results. Start a new regrade if the results should change again."
            )
        if summary.done_jobs != summary.total_jobs:
            raise InvalidInput("this regrade is still running; publish it when every job is done")
        gradebook.regrades.publish(batch)


def batches(ctx: ServiceContext, caller: Caller) -> list[BatchSummary]:
    require_instructor(caller)
    with ctx.unit_of_work() as gradebook:
        return gradebook.regrades.summaries()
