"""Submissions and their results: uploads recorded with their grading jobs, the jobs of a submission, its current
(latest published) result, and a snapshot of many students' attempts for the standings."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, defer

from grader.db.models import GradeRecord, GradingJob, ManualScore, Submission, UploadContent
from grader.gradebook.compute import Attempt
from grader.gradebook.regrade_requests import score_adjustments

_DIALECT_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}  # the two with ON CONFLICT DO NOTHING


@dataclass(frozen=True)
class NewSubmission:
    user_id: int
    assignment_id: str
    sha256: str
    kind: str
    original_name: str
    size_bytes: int
    # The upload's bytes when they are not in the store yet: recorded with the row (see UploadContent).
    content: bytes | None = None


@dataclass(frozen=True)
class RecordedSubmission:
    submission_id: int
    job_id: int
    original_name: str  # as stored (cut to the column's length)
    submitted_at: datetime


@dataclass(frozen=True)
class Snapshot:
    submissions: dict[tuple[int, str], list[Submission]]  # (student, assignment) -> newest first
    records: dict[int, GradeRecord]  # submission id -> its current (latest published) result
    manual: dict[tuple[int, str, str], float]  # (student, assignment, item) -> latest entry
    adjustments: dict[int, float] = field(default_factory=dict)  # submission id -> what regrade overrides add

    def attempts(
        self, user_id: int, assignment_id: str, overlay: dict[int, GradeRecord] | None = None
    ) -> list[Attempt]:
        """Every submission as an Attempt, graded by its current record (or by `overlay`, to preview a regrade)."""
        attempts = []
        for submission in self.submissions.get((user_id, assignment_id), []):
            record = (overlay or {}).get(submission.id) or self.records.get(submission.id)
            attempts.append(
                Attempt(
                    submission_id=submission.id,
                    submitted_at=submission.submitted_at,
                    status=record.status if record else None,
                    score=record.score + self.adjustments.get(submission.id, 0.0) if record else None,
                    max_score=record.max_score if record else None,
                )
            )
        return attempts

    def manual_points(self, user_id: int, assignment_id: str, item: str) -> float | None:
        return self.manual.get((user_id, assignment_id, item))


class Submissions:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- recording -------------------------------------------------------------------------------------------------
    def record_submission(
        self, user_id: int, assignment_id: str, sha256: str, kind: str, original_name: str, size_bytes: int
    ) -> RecordedSubmission:
        return self.record_submissions(
            [NewSubmission(user_id, assignment_id, sha256, kind, original_name, size_bytes)]
        )[0]

    def record_submissions(self, batch: Sequence[NewSubmission]) -> list[RecordedSubmission]:
        """Each submission with its queued grading job, in the order given: two INSERT statements for the whole batch,
        on the tables (an upload burst commits together; building ORM objects per row would cost more than the rest
        of an upload)."""
        submissions, jobs = Submission.__table__, GradingJob.__table__
        self._keep_contents(batch)
        rows = [
            {
                **{name: value for name, value in vars(new).items() if name != "content"},
                "original_name": new.original_name[:255],
            }
            for new in batch
        ]
        inserted = self.session.execute(
            insert(submissions).returning(submissions.c.id, submissions.c.submitted_at, sort_by_parameter_order=True),
            rows,
        ).all()
        job_ids = self.session.scalars(
            insert(jobs).returning(jobs.c.id, sort_by_parameter_order=True),
            [{"submission_id": submission_id, "state": "queued"} for submission_id, _ in inserted],
        ).all()
        return [
            RecordedSubmission(submission_id, job_id, row["original_name"], submitted_at)
            for (submission_id, submitted_at), job_id, row in zip(inserted, job_ids, rows, strict=True)
        ]

    def grade_again(self, submission_id: int) -> int:
        """A new queued grading job for a submission already recorded; returns its id."""
        job = GradingJob(submission_id=submission_id, state="queued")
        self.session.add(job)
        self.session.flush()
        return job.id

    def _keep_contents(self, batch: Sequence[NewSubmission]) -> None:
        """Uploads not yet in the store, each content once (a content already kept, by another upload or process, is
        left as it is: the same sha256 is the same bytes)."""
        contents = {
            new.sha256: {"sha256": new.sha256, "original_name": new.original_name[:255], "content": new.content}
            for new in batch
            if new.content is not None
        }
        if not contents:
            return
        upsert = _DIALECT_INSERTS[self.session.get_bind().dialect.name]
        self.session.execute(
            upsert(UploadContent).on_conflict_do_nothing(index_elements=["sha256"]), list(contents.values())
        )

    # --- reading ---------------------------------------------------------------------------------------------------
    def upload_content(self, sha256: str) -> UploadContent | None:
        return self.session.get(UploadContent, sha256)

    def submission(self, submission_id: int) -> Submission | None:
        return self.session.get(Submission, submission_id)

    def submissions_of(self, user_id: int, assignment_id: str) -> list[Submission]:
        return list(
            self.session.scalars(
                select(Submission)
                .where(Submission.user_id == user_id, Submission.assignment_id == assignment_id)
                .order_by(Submission.submitted_at.desc(), Submission.id.desc())
            )
        )

    def latest_with_content(self, user_id: int, assignment_id: str, sha256: str) -> Submission | None:
        """The student's latest submission of exactly these bytes for the assignment."""
        return self.session.scalar(
            select(Submission)
            .where(
                Submission.user_id == user_id, Submission.assignment_id == assignment_id, Submission.sha256 == sha256
            )
            .order_by(Submission.id.desc())
            .limit(1)
        )

    def submissions_for_assignment(self, assignment_id: str) -> list[Submission]:
        return list(self.session.scalars(select(Submission).where(Submission.assignment_id == assignment_id)))

    def job(self, job_id: int) -> GradingJob | None:
        return self.session.get(GradingJob, job_id)

    def latest_job(self, submission_id: int) -> GradingJob | None:
        return self.session.scalar(
            select(GradingJob)
            .where(GradingJob.submission_id == submission_id, GradingJob.regrade_batch_id.is_(None))
            .order_by(GradingJob.id.desc())
            .limit(1)
        )

    # --- results ---------------------------------------------------------------------------------------------------
    def current_record(self, submission_id: int) -> GradeRecord | None:
        return self.session.scalar(
            select(GradeRecord)
            .where(GradeRecord.submission_id == submission_id, GradeRecord.published.is_(True))
            .order_by(GradeRecord.id.desc())
            .limit(1)
        )

    def attempts(
        self, user_id: int, assignment_id: str, overlay: dict[int, GradeRecord] | None = None
    ) -> list[Attempt]:
        return self.snapshot([user_id]).attempts(user_id, assignment_id, overlay)

    def snapshot(self, user_ids: Collection[int] | None = None) -> Snapshot:
        """Submissions, current results and latest manual scores of these students (all when None) in three
        queries, so a whole gradebook is computed without a query per cell."""
        submissions_query = select(Submission).order_by(Submission.submitted_at.desc(), Submission.id.desc())
        manual_query = select(ManualScore).order_by(ManualScore.id)
        if user_ids is not None:
            submissions_query = submissions_query.where(Submission.user_id.in_(user_ids))
            manual_query = manual_query.where(ManualScore.user_id.in_(user_ids))
        submissions: dict[tuple[int, str], list[Submission]] = {}
        for submission in self.session.scalars(submissions_query):
            submissions.setdefault((submission.user_id, submission.assignment_id), []).append(submission)
        records_query = (
            select(GradeRecord)
            .options(defer(GradeRecord.result))  # logs can be large; unused here
            .where(GradeRecord.published.is_(True))
            .order_by(GradeRecord.id)
            .where(GradeRecord.submission_id.in_(submissions_query.with_only_columns(Submission.id).order_by(None)))
        )
        records = {record.submission_id: record for record in self.session.scalars(records_query)}  # latest wins
        manual = {(e.user_id, e.assignment_id, e.item): e.points for e in self.session.scalars(manual_query)}
        adjusted = None if user_ids is None else [s.id for found in submissions.values() for s in found]
        return Snapshot(submissions, records, manual, score_adjustments(self.session, adjusted))
