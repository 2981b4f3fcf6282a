"""End to end in Debian's chromium: a student uploads the project-1 reference and reads the result; another student
cannot open it; an instructor sees both students, enters a defense score and exports the CSV. Screenshots of the
three main pages are taken each run, and kept in bench/screenshots/ when GRADER_UPDATE_SCREENSHOTS=1 (so a test run
leaves the working tree as it was)."""

from __future__ import annotations

import csv
import io
import os
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.db.base import make_engine, make_session_factory
from grader.gradebook.accounts import RosterEntry
from grader.gradebook.repository import Gradebook
from grader.settings import Settings
from grader.web.app import create_app
from tests.services import require_chromium
from tests.web.conftest import FIXTURE_COURSE, PASSWORD, SOLUTIONS, sqlite_url
from tests.web.live_server import serving

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
KEPT_SCREENSHOTS = REPO / "bench" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
GRADING_TIMEOUT_MS = 240_000


@dataclass(frozen=True)
class E2ECourse:
    course_dir: Path
    upload: Path
    score_text: str  # what the student's page must show once graded
    project_points: float  # the counting score on the dashboard


def _reference_p1_ready() -> bool:
    return all(
        path.exists()
        for path in (
            REPO / "assignments" / "p1" / "assignment.yaml",
            REPO / "rubrics" / "p1.yaml",
            REPO / "reference_solutions" / "p1" / "solution.py",
        )
    )


def _zip_reference(source: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(source.rglob("*")):
            relative = path.relative_to(source)
            if path.is_file() and relative.parts[0] != "mutants" and "__pycache__" not in relative.parts:
                archive.write(path, relative.as_posix())
    return target


@pytest.fixture
def e2e_course(tmp_path: Path) -> E2ECourse:
    """The real project 1 and its reference when they are in the repository; until then the web fixture course."""
    if not _reference_p1_ready():
        return E2ECourse(
            Path(shutil.copytree(FIXTURE_COURSE, tmp_path / "course")), SOLUTIONS / "right.py", "10 / 10", 64.0
        )
    course = tmp_path / "course"
    shutil.copytree(REPO / "assignments" / "p1", course / "assignments" / "p1")
    (course / "rubrics").mkdir()
    shutil.copy(REPO / "rubrics" / "p1.yaml", course / "rubrics" / "p1.yaml")
    return E2ECourse(
        course, _zip_reference(REPO / "reference_solutions" / "p1", tmp_path / "p1_reference.zip"), "20 / 20", 20.0
    )


@pytest.fixture
def live(tmp_path: Path, e2e_course: E2ECourse, password_hash: str) -> Iterator[str]:
    settings = Settings(
        course_dir=e2e_course.course_dir,
        data_dir=tmp_path / "data",
        sandbox="local",
        database_url=sqlite_url(tmp_path),
        workers=1,
    )
    app = create_app(settings)
    engine = make_engine(settings.effective_database_url)
    with make_session_factory(engine).begin() as session:
        gradebook = Gradebook(session)
        for email, name, number, role in [
            ("alice@example.edu", "Alice Adams", "s001", "student"),
            ("bob@example.edu", "Bob Brown", "s002", "student"),
            ("teacher@example.edu", "Tess Teacher", None, "instructor"),
        ]:
            user, _ = gradebook.accounts.add_user(RosterEntry(email, name, number), role)
            gradebook.accounts.set_password(user, password_hash)
    engine.dispose()
    with serving(app) as base_url:
        yield base_url


@pytest.fixture
def browser():
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _signed_in_page(browser, base_url: str, email: str):
    page = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900}).new_page()
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    return page


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    folder = KEPT_SCREENSHOTS if os.environ.get("GRADER_UPDATE_SCREENSHOTS") == "1" else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_student_uploads_reference_other_student_is_refused_instructor_grades_and_exports(
    browser, live: str, e2e_course: E2ECourse, screenshots: Path
):
    alice = _signed_in_page(browser, live, "alice@example.edu")
    alice.wait_for_url("**/assignments")
    alice.click("a:has-text('p1 ·')")
    alice.set_input_files("input[type=file]", str(e2e_course.upload))
    alice.click("button:has-text('Submit for grading')")
    alice.wait_for_url("**/submissions/*")
    submission_url = alice.url
    alice.wait_for_selector("[data-score]", timeout=GRADING_TIMEOUT_MS)  # the page polls and reloads by itself
    assert alice.inner_text("[data-score]") == e2e_course.score_text
    alice.screenshot(path=screenshots / "student_submission.png", full_page=True)
    alice.goto("/assignments")
    alice.screenshot(path=screenshots / "student_assignments.png", full_page=True)

    bob = _signed_in_page(browser, live, "bob@example.edu")
    bob.wait_for_url("**/assignments")
    refused = bob.goto(submission_url)
    assert refused.status == 404
    assert "Not found" in bob.inner_text("h1")
    assert e2e_course.score_text not in bob.content()

    teacher = _signed_in_page(browser, live, "teacher@example.edu")
    teacher.wait_for_url("**/instructor")
    assert teacher.locator("tr[data-student]").count() == 2
    teacher.click("a:has-text('Alice Adams')")
    defense = teacher.locator("form[data-manual=':defense']")
    defense.locator("input[name=points]").fill("18")
    defense.locator("input[name=note]").fill("defended well")
    defense.locator("button").click()
    teacher.wait_for_selector("text=defended well")
    teacher.goto("/instructor")
    alice_total = teacher.inner_text("tr[data-student='alice@example.edu'] [data-total]")
    assert float(alice_total) == e2e_course.project_points + 18
    teacher.screenshot(path=screenshots / "instructor_dashboard.png", full_page=True)

    with teacher.expect_download() as download:
        teacher.click("[data-export]")
    rows = {row["email"]: row for row in csv.DictReader(io.StringIO(Path(download.value.path()).read_text()))}
    assert float(rows["alice@example.edu"]["total"]) == e2e_course.project_points + 18
    assert float(rows["alice@example.edu"]["defense"]) == 18
    assert (rows["bob@example.edu"]["total"], rows["bob@example.edu"]["passed"]) == ("0", "no")


def test_a_notebooks_cell_report_is_on_the_students_result_page(browser, live: str, tmp_path: Path, screenshots: Path):
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# My tiny GPT"),
        nbformat.v4.new_code_cell("!pip install torch"),
        nbformat.v4.new_code_cell("import unicodedata\n\ndef clean_corpus(raw):\n    return raw\n"),
        nbformat.v4.new_code_cell("%%bash\nls /"),
        nbformat.v4.new_code_cell("raise RuntimeError('a scratch cell')"),
    ]
    path = tmp_path / "solution.ipynb"
    nbformat.write(notebook, str(path))
    bob = _signed_in_page(browser, live, "bob@example.edu")
    bob.wait_for_url("**/assignments")
    bob.click("a:has-text('p1 ·')")
    bob.set_input_files("input[type=file]", str(path))
    bob.click("button:has-text('Submit for grading')")
    bob.wait_for_url("**/submissions/*")
    bob.wait_for_selector("[data-notebook-cells]", timeout=GRADING_TIMEOUT_MS)
    rows = [row.inner_text() for row in bob.locator("[data-notebook-cells] tbody tr").all()]
    assert len(rows) == 3, rows
    assert rows[0].startswith("code cell 1") and "!pip install torch" in rows[0] and "skipped" in rows[0]
    assert rows[1].startswith("code cell 3") and "%%bash" in rows[1] and "skipped" in rows[1]
    assert rows[2].startswith("code cell 4") and "RuntimeError: a scratch cell" in rows[2]
    bob.screenshot(path=screenshots / "student_notebook_result.png", full_page=True)
