"""The gradebook over SQLAlchemy. A `Gradebook` wraps one session; the caller's `session_factory.begin()` block is the
unit of work, so everything done through one Gradebook commits (or rolls back) together."""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, defer

from grader.db.base import utcnow
from grader.db.models import (
    ApiToken,
    GradeRecord,
    GradingJob,
    ManualScore,
    RegradeBatch,
    Submission,
    UploadContent,
    User,
    WebSession,
)
from grader.db.plagiarism_models import PlagiarismCase
from grader.gradebook.compute import Attempt
from grader.gradebook.regrade_requests import score_adjustments
from grader.gradebook.signed_in import token_digest

_DIALECT_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}  # the two with ON CONFLICT DO NOTHING

COURSE_LEVEL = ""  # assignment_id of manual items that belong to the course, not to one project
DEFENSE = "defense"
RETAKE_QUESTIONS = "retake_questions"


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
class RosterEntry:
    email: str
    name: str
    student_number: str | None = None


@dataclass(frozen=True)
class PlagiarismFlag:
    case_id: int
    assignment_id: str
    student_a: str
    student_b: str
    score: float
    status: str


def student_keys(user: User) -> set[str]:
    """How the plagiarism cases may name a student: their e-mail or their student number."""
    return {key for key in (user.email, user.student_number) if key}


@dataclass(frozen=True)
class Snapshot:
    submissions: dict[tuple[int, str], list[Submission]]  # (student, assignment) -> newest first
    records: dict[int, GradeRecord]  # submission id -> its current (latest published) result
    manual: dict[tuple[int, str, str], float]  # (student, assignment, item) -> latest entry
    adjustments: dict[int, float] = field(default_factory=dict)  # submission id -> what regrade overrides add

    def attempts(self, user_id: int, assignment_id: str, overlay: dict[int, GradeRecord] | None = None) -> list[Attempt]:
        """Every submission as an Attempt, graded by its current record (or by `overlay`, to preview a regrade)."""
        attempts = []
        for submission in self.submissions.get((user_id, assignment_id), []):
            record = (overlay or {}).get(submission.id) or self.records.get(submission.id)
            attempts.append(Attempt(
                submission_id=submission.id, submitted_at=submission.submitted_at,
                status=record.status if record else None,
                score=record.score + self.adjustments.get(submission.id, 0.0) if record else None,
                max_score=record.max_score if record else None,
            ))
        return attempts

    def manual_points(self, user_id: int, assignment_id: str, item: str) -> float | None:
        return self.manual.get((user_id, assignment_id, item))


class Gradebook:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- people -----------------------------------------------------------------------------------------------
    def user(self, user_id: int) -> User | None:
        return self.session.get(User, user_id)

    def user_by_email(self, email: str) -> User | None:
        return self.session.scalar(select(User).where(User.email == email.strip().lower()))

    def students(self) -> list[User]:
        return list(self.session.scalars(select(User).where(User.role == "student").order_by(User.name, User.email)))

    def add_user(self, entry: RosterEntry, role: str) -> tuple[User, str]:
        """Create an account with a one-time invitation token (returned once; only its digest is stored)."""
        user = User(email=entry.email.strip().lower(), name=entry.name.strip(), student_number=entry.student_number,
                    role=role)
        self.session.add(user)
        invite = self.reissue_invite(user)
        self.session.flush()
        return user, invite

    def reissue_invite(self, user: User) -> str:
        """A fresh one-time link to set a password; the previous password, open sessions and API tokens stop working."""
        invite = secrets.token_urlsafe(32)
        user.password_hash = None
        user.invite_token_hash = token_digest(invite)
        self.sign_out_everywhere(user)
        return invite

    def import_roster(self, entries: Iterable[RosterEntry]) -> list[tuple[User, str]]:
        """Add the students not yet known; existing accounts are left as they are."""
        created = []
        for entry in entries:
            if self.user_by_email(entry.email) is None:
                created.append(self.add_user(entry, "student"))
        return created

    def user_by_invite(self, invite: str) -> User | None:
        return self.session.scalar(select(User).where(User.invite_token_hash == token_digest(invite)))

    def set_password(self, user: User, password_hash: str) -> None:
        """A new password ends every open session and revokes every API token of the account."""
        user.password_hash = password_hash
        user.invite_token_hash = None
        self.sign_out_everywhere(user)

    def sign_out_everywhere(self, user: User) -> None:
        self.session.execute(delete(WebSession).where(WebSession.user_id == user.id))
        self.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))

    # --- sessions and API tokens --------------------------------------------------------------------------------
    def open_session(self, user: User, lifetime: timedelta) -> tuple[str, WebSession]:
        token = secrets.token_urlsafe(32)
        web_session = WebSession(
            token_hash=token_digest(token), user_id=user.id, csrf_token=secrets.token_urlsafe(32),
            expires_at=utcnow() + lifetime,
        )
        self.session.add(web_session)
        return token, web_session

    def close_session(self, token: str) -> None:
        web_session = self.session.get(WebSession, token_digest(token))
        if web_session is not None:
            self.session.delete(web_session)

    def issue_api_token(self, user: User, label: str) -> str:
        token = secrets.token_urlsafe(32)
        self.session.add(ApiToken(user_id=user.id, token_hash=token_digest(token), label=label))
        return token

    def api_tokens(self, user_id: int) -> list[ApiToken]:
        return list(self.session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)))

    def revoke_api_token(self, user_id: int, token_id: int) -> bool:
        """Only the owner's own token; False when there is none such."""
        return bool(self.session.execute(
            delete(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)).rowcount)

    # --- submissions and jobs ------------------------------------------------------------------------------------
    def record_submission(
        self, user_id: int, assignment_id: str, sha256: str, kind: str, original_name: str, size_bytes: int
    ) -> RecordedSubmission:
        return self.record_submissions([NewSubmission(user_id, assignment_id, sha256, kind, original_name,
                                                      size_bytes)])[0]

    def record_submissions(self, batch: Sequence[NewSubmission]) -> list[RecordedSubmission]:
        """Each submission with its queued grading job, in the order given: two INSERT statements for the whole batch,
        on the tables (an upload burst commits together; building ORM objects per row would cost more than the rest
        of an upload)."""
        submissions, jobs = Submission.__table__, GradingJob.__table__
        self._keep_contents(batch)
        rows = [{**{name: value for name, value in vars(new).items() if name != "content"},
                 "original_name": new.original_name[:255]} for new in batch]
        inserted = self.session.execute(
            insert(submissions).returning(submissions.c.id, submissions.c.submitted_at, sort_by_parameter_order=True),
            rows,
        ).all()
        job_ids = self.session.scalars(
            insert(jobs).returning(jobs.c.id, sort_by_parameter_order=True),
            [{"submission_id": submission_id, "state": "queued"} for submission_id, _ in inserted],
        ).all()
        return [RecordedSubmission(submission_id, job_id, row["original_name"], submitted_at)
                for (submission_id, submitted_at), job_id, row in zip(inserted, job_ids, rows, strict=True)]

    def _keep_contents(self, batch: Sequence[NewSubmission]) -> None:
        """Uploads not yet in the store, each content once (a content already kept, by another upload or process, is
        left as it is: the same sha256 is the same bytes)."""
        contents = {new.sha256: {"sha256": new.sha256, "original_name": new.original_name[:255], "content": new.content}
                    for new in batch if new.content is not None}
        if not contents:
            return
        upsert = _DIALECT_INSERTS[self.session.get_bind().dialect.name]
        self.session.execute(upsert(UploadContent).on_conflict_do_nothing(index_elements=["sha256"]),
                             list(contents.values()))

    def upload_content(self, sha256: str) -> UploadContent | None:
        return self.session.get(UploadContent, sha256)

    def submission(self, submission_id: int) -> Submission | None:
        return self.session.get(Submission, submission_id)

    def submissions_of(self, user_id: int, assignment_id: str) -> list[Submission]:
        return list(self.session.scalars(
            select(Submission)
            .where(Submission.user_id == user_id, Submission.assignment_id == assignment_id)
            .order_by(Submission.submitted_at.desc(), Submission.id.desc())
        ))

    def submissions_for_assignment(self, assignment_id: str) -> list[Submission]:
        return list(self.session.scalars(select(Submission).where(Submission.assignment_id == assignment_id)))

    def job(self, job_id: int) -> GradingJob | None:
        return self.session.get(GradingJob, job_id)

    def claim_job(self, job_id: int) -> GradingJob | None:
        """queued -> running, atomically: of two workers handed the same id, only one gets it."""
        claimed = self.session.execute(
            update(GradingJob)
            .where(GradingJob.id == job_id, GradingJob.state == "queued")
            .values(state="running", started_at=utcnow())
        ).rowcount
        return self.session.get(GradingJob, job_id) if claimed else None

    def finish_job(self, job: GradingJob, result: dict[str, Any] | None, error: str | None) -> None:
        job.state = "done"
        job.finished_at = utcnow()
        job.error = error
        if result is not None:
            self.session.add(GradeRecord(
                submission_id=job.submission_id, job_id=job.id, status=result["status"],
                score=float(result.get("score", 0.0)), max_score=float(result.get("max_score", 0.0)),
                result=result, published=job.regrade_batch_id is None,
            ))

    def requeue_interrupted_jobs(self) -> int:
        """After a crash, a job left 'running' never finished: put it back in the queue."""
        return self.session.execute(
            update(GradingJob).where(GradingJob.state == "running").values(state="queued", started_at=None)
        ).rowcount

    def queued_job_ids(self) -> list[int]:
        return list(self.session.scalars(select(GradingJob.id).where(GradingJob.state == "queued").order_by(GradingJob.id)))

    def latest_job(self, submission_id: int) -> GradingJob | None:
        return self.session.scalar(
            select(GradingJob).where(GradingJob.submission_id == submission_id, GradingJob.regrade_batch_id.is_(None))
            .order_by(GradingJob.id.desc()).limit(1)
        )

    # --- results -------------------------------------------------------------------------------------------------
    def current_record(self, submission_id: int) -> GradeRecord | None:
        return self.session.scalar(
            select(GradeRecord).where(GradeRecord.submission_id == submission_id, GradeRecord.published.is_(True))
            .order_by(GradeRecord.id.desc()).limit(1)
        )

    def attempts(self, user_id: int, assignment_id: str, overlay: dict[int, GradeRecord] | None = None) -> list[Attempt]:
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
        records_query = (select(GradeRecord).options(defer(GradeRecord.result))  # logs can be large; unused here
                         .where(GradeRecord.published.is_(True)).order_by(GradeRecord.id)
                         .where(GradeRecord.submission_id.in_(submissions_query.with_only_columns(Submission.id)
                                                              .order_by(None))))
        records = {record.submission_id: record for record in self.session.scalars(records_query)}  # latest wins
        manual = {(e.user_id, e.assignment_id, e.item): e.points for e in self.session.scalars(manual_query)}
        adjusted = None if user_ids is None else [s.id for found in submissions.values() for s in found]
        return Snapshot(submissions, records, manual, score_adjustments(self.session, adjusted))

    # --- manual scores -------------------------------------------------------------------------------------------
    def enter_manual(self, student: User, assignment_id: str, item: str, points: float, note: str, by: User) -> None:
        self.session.add(ManualScore(
            user_id=student.id, assignment_id=assignment_id, item=item, points=points, note=note, entered_by=by.id,
        ))

    def manual_note(self, user_id: int, assignment_id: str, item: str) -> str:
        """The note of the latest entry: what the instructor told the student with the points."""
        return self.session.scalar(
            select(ManualScore.note)
            .where(ManualScore.user_id == user_id, ManualScore.assignment_id == assignment_id, ManualScore.item == item)
            .order_by(ManualScore.id.desc()).limit(1)
        ) or ""

    def manual_points(self, user_id: int, assignment_id: str, item: str) -> float | None:
        return self.session.scalar(
            select(ManualScore.points)
            .where(ManualScore.user_id == user_id, ManualScore.assignment_id == assignment_id, ManualScore.item == item)
            .order_by(ManualScore.id.desc()).limit(1)
        )

    def manual_entries(self, user_id: int | None = None) -> list[ManualScore]:
        query = select(ManualScore).order_by(ManualScore.id.desc())
        if user_id is not None:
            query = query.where(ManualScore.user_id == user_id)
        return list(self.session.scalars(query))

    # --- regrades ------------------------------------------------------------------------------------------------
    def start_regrade(self, assignment_id: str, submissions: Sequence[Submission], by: User) -> tuple[RegradeBatch, list[int]]:
        batch = RegradeBatch(
            assignment_id=assignment_id, requested_by=by.id,
            submission_id=submissions[0].id if len(submissions) == 1 else None,
        )
        self.session.add(batch)
        self.session.flush()
        jobs = [GradingJob(submission_id=s.id, regrade_batch_id=batch.id, state="queued") for s in submissions]
        self.session.add_all(jobs)
        self.session.flush()
        return batch, [job.id for job in jobs]

    def regrade_batch(self, batch_id: int) -> RegradeBatch | None:
        return self.session.get(RegradeBatch, batch_id)

    def regrade_jobs(self, batch_id: int) -> list[GradingJob]:
        return list(self.session.scalars(select(GradingJob).where(GradingJob.regrade_batch_id == batch_id)))

    def regrade_records(self, batch_id: int) -> dict[int, GradeRecord]:
        records = self.session.scalars(
            select(GradeRecord).join(GradingJob, GradeRecord.job_id == GradingJob.id)
            .where(GradingJob.regrade_batch_id == batch_id)
        )
        return {record.submission_id: record for record in records}

    def publish_regrade(self, batch: RegradeBatch) -> None:
        for record in self.regrade_records(batch.id).values():
            record.published = True
        batch.published_at = utcnow()

    # --- plagiarism ----------------------------------------------------------------------------------------------
    def plagiarism_flags(self) -> list[PlagiarismFlag]:
        cases = self.session.scalars(
            select(PlagiarismCase).where(PlagiarismCase.status.in_(("flagged", "confirmed"))).order_by(PlagiarismCase.id)
        )
        return [PlagiarismFlag(c.id, c.assignment_id, c.student_a, c.student_b, c.score, c.status) for c in cases]
