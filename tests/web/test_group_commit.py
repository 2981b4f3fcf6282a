"""Uploads that arrive together share one commit, and each still gets its own rows and its own error."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import replace

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from grader.db.models import GradingJob, Submission, UploadContent
from grader.gradebook.accounts import RosterEntry
from grader.gradebook.group_commit import SubmissionRecorder
from grader.gradebook.repository import Gradebook
from grader.gradebook.submissions import NewSubmission

BURST = 20


@pytest.fixture
def student_id(session_factory: sessionmaker) -> int:
    with session_factory.begin() as session:
        return Gradebook(session).accounts.add_user(RosterEntry("dora@example.edu", "Dora"), "student")[0].id


class FirstCommitHeld:
    """Counts the writer's commits and holds the first one until released, so the rest of a burst queues behind it."""

    def __init__(self, session_factory: sessionmaker) -> None:
        self.commits = 0
        self.first_started = threading.Event()
        self.release = threading.Event()
        event.listen(session_factory, "before_commit", self._before_commit)

    def _before_commit(self, _session: Session) -> None:
        self.commits += 1
        if self.commits == 1:
            self.first_started.set()
            assert self.release.wait(30), "test never released the first commit"


def new_submission(student_id: int, n: int) -> NewSubmission:
    return NewSubmission(student_id, "p1", f"{n:064x}", "py", f"solution{n}.py", 100 + n)


def test_a_burst_of_uploads_commits_together_and_every_one_gets_its_own_rows(session_factory, student_id):
    recorder = SubmissionRecorder(session_factory)
    held = FirstCommitHeld(session_factory)
    first = recorder.submit(new_submission(student_id, 0))
    assert held.first_started.wait(30)
    rest = [recorder.submit(new_submission(student_id, n)) for n in range(1, BURST)]
    while recorder._pending.qsize() < BURST - 1:  # the burst waits behind the held commit
        threading.Event().wait(0.01)
    held.release.set()
    recorded = [first.result(30), *(future.result(30) for future in rest)]
    recorder.stop()

    assert held.commits == 2  # the first upload alone, then the other nineteen in one transaction
    with session_factory() as session:
        for n, row in enumerate(recorded):
            submission = session.get(Submission, row.submission_id)
            assert (submission.sha256, submission.original_name) == (f"{n:064x}", f"solution{n}.py")
            job = session.get(GradingJob, row.job_id)
            assert (job.submission_id, job.state) == (submission.id, "queued")
        assert session.scalar(select(func.count(Submission.id))) == BURST
        assert session.scalar(select(func.count(GradingJob.id))) == BURST


def test_a_bad_row_fails_only_its_own_upload_not_the_ones_sharing_its_commit(session_factory, student_id):
    recorder = SubmissionRecorder(session_factory)
    held = FirstCommitHeld(session_factory)
    unknown_student = student_id + 1000  # violates the foreign key to users
    first = recorder.submit(new_submission(student_id, 0))
    assert held.first_started.wait(30)
    good = [recorder.submit(new_submission(student_id, n)) for n in (1, 2)]
    bad = recorder.submit(new_submission(unknown_student, 3))
    while recorder._pending.qsize() < 3:
        threading.Event().wait(0.01)
    held.release.set()
    first.result(30)
    assert [future.result(30).original_name for future in good] == ["solution1.py", "solution2.py"]
    with pytest.raises(Exception):
        bad.result(30)
    recorder.stop()
    with session_factory() as session:
        assert session.scalar(select(func.count(Submission.id))) == 3


def test_stopping_commits_what_is_waiting_and_a_later_upload_starts_the_writer_again(session_factory, student_id):
    recorder = SubmissionRecorder(session_factory)
    before = recorder.submit(new_submission(student_id, 0)).result()
    recorder.stop()
    after = recorder.submit(new_submission(student_id, 1)).result()
    recorder.stop()
    assert after.submission_id > before.submission_id
    with session_factory() as session:
        assert session.scalar(select(func.count(GradingJob.id))) == 2


def test_the_hook_runs_once_per_batch_before_its_rows_commit(session_factory, student_id):
    """`grader serve` flushes the submission store in this hook: no upload may be acknowledged before it ran."""
    rows_seen_by_hook = []

    def count_committed_rows() -> None:
        with session_factory() as session:
            rows_seen_by_hook.append(session.scalar(select(func.count(Submission.id))))

    recorder = SubmissionRecorder(session_factory, before_commit=count_committed_rows)
    for n in range(3):
        recorder.submit(new_submission(student_id, n)).result()
    recorder.stop()
    assert rows_seen_by_hook == [0, 1, 2]


def test_uploads_that_carry_their_content_commit_it_with_their_rows_and_need_no_store_flush(
    session_factory, student_id
):
    flushes = []
    recorder = SubmissionRecorder(session_factory, before_commit=lambda: flushes.append("flush"))
    content = b"def mean(xs):\n    return sum(xs) / len(xs)\n"
    carried = replace(new_submission(student_id, 0), sha256=hashlib.sha256(content).hexdigest(), content=content)
    first = recorder.submit(carried).result()
    again = recorder.submit(replace(carried, original_name="copy.py")).result()  # the same bytes, uploaded again
    assert flushes == []
    recorder.submit(new_submission(student_id, 2)).result()  # written to the store before it was handed over
    assert flushes == ["flush"]
    recorder.stop()
    with session_factory() as session:
        kept = Gradebook(session).submissions.upload_content(carried.sha256)
        assert (kept.content, kept.original_name) == (content, "solution0.py")
        assert session.scalar(select(func.count(UploadContent.sha256))) == 1
        assert {session.get(Submission, row.submission_id).sha256 for row in (first, again)} == {carried.sha256}
