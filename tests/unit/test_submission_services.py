"""The submission services the web, the API and `grader batch` share (grader/services/uploads.py, cohort.py), called
with plain values: no request, no web app. The gradebook is a real SQLite database."""

from __future__ import annotations

import ast
import asyncio
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from grader import course_files, store
from grader.db.base import make_engine, make_session_factory
from grader.db.models import GradingJob, Submission
from grader.domain.assignment import Assignment
from grader.gradebook.accounts import RosterEntry
from grader.gradebook.catalog import CourseCatalog
from grader.gradebook.group_commit import SubmissionRecorder
from grader.gradebook.repository import Gradebook
from grader.gradebook.rules import load_course_rules
from grader.queue.claims import JobClaims
from grader.services import uploads
from grader.services.access import InvalidInput
from grader.services.cohort import PLACEHOLDER_EMAIL_DOMAIN, record_for_grading, student_account
from grader.services.context import ServiceContext
from grader.settings import Settings
from tests.conftest import FIXTURE_COURSE, REPO

SOLUTION = (FIXTURE_COURSE / "reference_solutions" / "p1" / "solution.py").read_bytes()


@pytest.fixture
def assignment(fixture_settings: Settings) -> Assignment:
    return course_files.load_assignment(fixture_settings, "p1")


@pytest.fixture
def session_factory(fixture_settings: Settings, migrate_gradebook: Callable[[str], None]) -> Iterator[sessionmaker]:
    fixture_settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate_gradebook(fixture_settings.effective_database_url)
    engine = make_engine(fixture_settings.effective_database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def student_id(session_factory: sessionmaker) -> int:
    with session_factory.begin() as session:
        user, _ = Gradebook(session).accounts.add_user(RosterEntry("ada@uni.example", "Ada", "s001"), "student")
        session.flush()
        return user.id


class RecordingQueue:
    """Only the ids handed to the queue matter here; the real queues take uploads in tests/web/test_student_flow.py."""

    def __init__(self) -> None:
        self.enqueued: list[int] = []

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def enqueue(self, job_id: int) -> None:
        self.enqueued.append(job_id)


# --- intake and the store -------------------------------------------------------------------------------------------
def test_a_small_upload_is_accepted_in_memory_and_nothing_is_stored(fixture_settings: Settings, assignment) -> None:
    accepted = uploads.accept_in_memory(fixture_settings, assignment, SOLUTION, "solution.py")

    assert (accepted.kind, accepted.original_name, accepted.size_bytes) == ("py", "solution.py", len(SOLUTION))
    assert not store.is_stored(fixture_settings.store_dir, accepted.sha256)


def test_an_upload_intake_refuses_is_invalid_input_with_intakes_reason(fixture_settings: Settings, assignment) -> None:
    with pytest.raises(InvalidInput, match=r"\.txt"):
        uploads.accept_in_memory(fixture_settings, assignment, b"my notes", "notes.txt")


def test_a_file_is_stored_with_its_tree_ready_for_grading(
    fixture_settings: Settings, assignment, tmp_path: Path
) -> None:
    source = tmp_path / "upload.zip"
    with zipfile.ZipFile(source, "w") as archive:
        archive.writestr("project/solution.py", SOLUTION)

    stored = uploads.store_file(fixture_settings, assignment, source, "upload.zip")

    assert stored.kind == "zip"
    assert (store.get(fixture_settings.store_dir, stored.sha256).tree / "solution.py").read_bytes() == SOLUTION


def test_a_refused_file_is_invalid_input_and_leaves_the_store_empty(
    fixture_settings: Settings, assignment, tmp_path: Path
) -> None:
    source = tmp_path / "upload.zip"
    with zipfile.ZipFile(source, "w") as archive:
        archive.writestr("readme.md", "no solution here")

    with pytest.raises(InvalidInput, match="solution.py"):
        uploads.store_file(fixture_settings, assignment, source, "upload.zip")
    assert not any(path.is_file() for path in fixture_settings.store_dir.rglob("meta.json"))


def test_a_staged_upload_is_stored_from_its_staging_folder(fixture_settings: Settings, assignment) -> None:
    with store.staging(fixture_settings.store_dir) as staging:
        written = store.original_folder(staging) / "solution.py"
        written.write_bytes(SOLUTION)
        stored = uploads.store_staged(fixture_settings, assignment, staging, written, "solution.py", flush=False)

    assert store.is_stored(fixture_settings.store_dir, stored.sha256)
    assert (stored.original / "solution.py").read_bytes() == SOLUTION


def test_a_submission_keeps_the_bytes_only_of_an_upload_the_store_lacks(fixture_settings: Settings, assignment) -> None:
    accepted = uploads.accept_in_memory(fixture_settings, assignment, SOLUTION, "solution.py")

    kept = uploads.submission_of(7, "p1", accepted, SOLUTION)
    stored = uploads.submission_of(7, "p1", accepted)

    assert (kept.user_id, kept.assignment_id, kept.sha256, kept.content) == (7, "p1", accepted.sha256, SOLUTION)
    assert stored.content is None


def test_a_recorded_upload_is_committed_then_its_job_queued(
    fixture_settings: Settings, assignment, session_factory: sessionmaker, student_id: int
) -> None:
    rules = load_course_rules(fixture_settings)
    queue = RecordingQueue()
    recorder = SubmissionRecorder(session_factory)
    ctx = ServiceContext(
        fixture_settings, rules, session_factory, queue, CourseCatalog(fixture_settings, rules), recorder
    )
    accepted = uploads.accept_in_memory(fixture_settings, assignment, SOLUTION, "solution.py")
    try:
        recorded = asyncio.run(
            uploads.record_and_queue(ctx, uploads.submission_of(student_id, "p1", accepted, SOLUTION))
        )
    finally:
        recorder.stop()

    assert queue.enqueued == [recorded.job_id]
    with session_factory() as session:
        submission = session.get(Submission, recorded.submission_id)
        assert (submission.user_id, submission.sha256) == (student_id, accepted.sha256)
        assert session.get(GradingJob, recorded.job_id).state == "queued"
        assert Gradebook(session).submissions.upload_content(accepted.sha256).content == SOLUTION


# --- a cohort's students and what gets graded -----------------------------------------------------------------------
def test_a_student_key_finds_the_roster_account_by_number_or_email(
    session_factory: sessionmaker, student_id: int
) -> None:
    with session_factory.begin() as session:
        gradebook = Gradebook(session)
        assert student_account(gradebook, "s001").id == student_id
        assert student_account(gradebook, "ada@uni.example").id == student_id


def test_a_student_missing_from_the_roster_gets_one_placeholder_account(session_factory: sessionmaker) -> None:
    with session_factory.begin() as session:
        created = student_account(Gradebook(session), "S999")
        session.flush()
        again = student_account(Gradebook(session), "S999")

    assert again.id == created.id
    assert (created.email, created.student_number, created.role) == (
        f"s999@{PLACEHOLDER_EMAIL_DOMAIN}",
        "S999",
        "student",
    )


def _finish(session_factory: sessionmaker, job_id: int, status: str, version: str) -> None:
    with session_factory.begin() as session:
        claims = JobClaims(session)
        claims.finish(claims.claim(job_id), {"status": status, "score": 1.0, "assignment_version": version}, None)


def _record(session_factory: sessionmaker, new, version: str, regrade: bool = False):
    with session_factory.begin() as session:
        return record_for_grading(Gradebook(session), new, version, regrade)


def test_new_content_gets_a_row_and_a_job_and_a_rerun_waits_for_that_job(
    fixture_settings: Settings, assignment, session_factory: sessionmaker, student_id: int
) -> None:
    new = uploads.submission_of(
        student_id, "p1", uploads.accept_in_memory(fixture_settings, assignment, SOLUTION, "a.py")
    )

    first = _record(session_factory, new, "v1")
    rerun = _record(session_factory, new, "v1")

    assert first.job_id is not None
    assert rerun == first
    with session_factory() as session:
        assert len(session.scalars(select(Submission)).all()) == 1


def test_a_result_at_this_version_stands_unless_a_regrade_is_asked(
    fixture_settings: Settings, assignment, session_factory: sessionmaker, student_id: int
) -> None:
    new = uploads.submission_of(
        student_id, "p1", uploads.accept_in_memory(fixture_settings, assignment, SOLUTION, "a.py")
    )
    first = _record(session_factory, new, "v1")
    _finish(session_factory, first.job_id, "graded", "v1")

    standing = _record(session_factory, new, "v1")
    regraded = _record(session_factory, new, "v1", regrade=True)

    assert standing.job_id is None and standing.submission_id == first.submission_id
    assert regraded.job_id not in (None, first.job_id) and regraded.submission_id == first.submission_id


@pytest.mark.parametrize(
    ("status", "graded_at", "why"),
    [("graded", "v0", "the assignment changed since"), ("infra_error", "v1", "the grading itself failed")],
)
def test_a_result_is_graded_again_when(
    status: str,
    graded_at: str,
    why: str,
    fixture_settings: Settings,
    assignment,
    session_factory: sessionmaker,
    student_id: int,
) -> None:
    new = uploads.submission_of(
        student_id, "p1", uploads.accept_in_memory(fixture_settings, assignment, SOLUTION, "a.py")
    )
    first = _record(session_factory, new, "v1")
    _finish(session_factory, first.job_id, status, graded_at)

    again = _record(session_factory, replace(new, original_name="b.py"), "v1")

    assert again.job_id not in (None, first.job_id), why
    assert again.submission_id == first.submission_id


# --- the layer itself ------------------------------------------------------------------------------------------------
WEB_PACKAGES = ("fastapi", "starlette", "grader.web")


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (a deferred import is still a dependency)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("path", sorted((REPO / "grader" / "services").glob("*.py")), ids=lambda path: path.name)
def test_the_service_layer_imports_no_web_framework(path: Path) -> None:
    web = sorted(
        name for name in imported_modules(path) if any(name == p or name.startswith(p + ".") for p in WEB_PACKAGES)
    )
    assert not web, f"{path.relative_to(REPO)} imports {web}: services take plain values; adapt in grader/web/"
