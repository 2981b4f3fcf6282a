"""A cohort's submissions recorded for grading (`grader batch`, mutation analysis): the account behind a student key
from a folder or an LMS export, and a grading job only for what is not graded at the assignment's current version.

A submission row is kept per (student, content): the same content handed in again is the same attempt, so a rerun
after an interruption waits for the jobs still queued or running instead of starting new ones."""

from __future__ import annotations

from dataclasses import dataclass

from grader.db.models import User
from grader.gradebook.accounts import RosterEntry
from grader.gradebook.repository import Gradebook
from grader.gradebook.submissions import NewSubmission

PLACEHOLDER_EMAIL_DOMAIN = "students.invalid"  # accounts created for student ids not on the roster yet


@dataclass(frozen=True)
class CohortSubmission:
    submission_id: int
    job_id: int | None  # the job to wait for; None when the current result stands


def student_account(gradebook: Gradebook, student: str) -> User:
    """The roster account of `student` (by student number, else e-mail), created when the roster lacks it."""
    user = gradebook.accounts.student_by_number(student) or gradebook.accounts.user_by_email(student)
    if user is None:
        user, _ = gradebook.accounts.add_user(
            RosterEntry(f"{student.lower()}@{PLACEHOLDER_EMAIL_DOMAIN}", student, student_number=student), "student"
        )
    return user


def record_for_grading(
    gradebook: Gradebook, new: NewSubmission, assignment_version: str, regrade: bool
) -> CohortSubmission:
    """New content gets a row and a job; a job still queued or running is waited for; a result at this version (not
    an infrastructure error) stands unless `regrade`; anything else is graded again."""
    submissions = gradebook.submissions
    submission = submissions.latest_with_content(new.user_id, new.assignment_id, new.sha256)
    if submission is None:
        recorded = submissions.record_submissions([new])[0]
        return CohortSubmission(recorded.submission_id, recorded.job_id)
    job = submissions.latest_job(submission.id)
    if job is not None and job.state != "done":
        return CohortSubmission(submission.id, job.id)  # interrupted earlier: the queue resumes it
    record = submissions.current_record(submission.id)
    if (
        record is not None
        and not regrade
        and record.status != "infra_error"
        and record.result.get("assignment_version") == assignment_version
    ):
        return CohortSubmission(submission.id, None)
    return CohortSubmission(submission.id, submissions.grade_again(submission.id))
