"""In Debian's chromium, on the web fixture course with its due date two days past and the course end ahead: the
assignment page shows the handout and warns before a late upload, which needs the box ticked; an instructor enters
points for a student who never uploaded, grants an extension that lifts that student's warning only, and finds an
older regrade superseded and refused. Screenshots as in test_browser.py."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from grader.db.base import make_engine, make_session_factory, utcnow
from grader.gradebook.accounts import RosterEntry
from grader.gradebook.repository import Gradebook
from grader.settings import Settings
from grader.web.app import create_app
from tests.web.conftest import FIXTURE_COURSE, SOLUTIONS, sqlite_url
from tests.web.live_server import serving
from tests.web.test_browser import _signed_in_page, browser, screenshots  # noqa: F401  (fixtures)
from tests.web.test_course_dates import _graded_attempt, _set_course_dates
from tests.web.test_regrade_batches import _finished_regrade

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def late_course(tmp_path: Path, password_hash: str) -> Iterator[tuple[str, Settings]]:
    course = Path(shutil.copytree(FIXTURE_COURSE, tmp_path / "course"))
    now = utcnow()
    _set_course_dates(course, due=now - timedelta(days=2) + timedelta(hours=1), course_end=now + timedelta(days=10))
    settings = Settings(
        course_dir=course, data_dir=tmp_path / "data", sandbox="local", database_url=sqlite_url(tmp_path), workers=1
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
        yield base_url, settings


def test_a_late_upload_asks_first_and_its_page_says_how_it_counts(browser, late_course, screenshots: Path):  # noqa: F811
    base_url, _ = late_course
    alice = _signed_in_page(browser, base_url, "alice@example.edu")
    alice.wait_for_url("**/assignments")
    assert "counts until the course end" in alice.inner_text("td[data-due]")
    alice.click("a:has-text('p1 ·')")
    assert "Sums" in alice.inner_text("[data-handout] h1")
    assert alice.locator("[data-rubric] tbody tr").count() == 3
    assert "it counts, marked" in alice.inner_text("[data-upload-warning]")
    alice.screenshot(path=screenshots / "student_assignment_late.png", full_page=True)

    alice.set_input_files("input[type=file]", str(SOLUTIONS / "right.py"))
    alice.click("button:has-text('Submit for grading')")  # the unticked box keeps the form from being sent
    assert alice.url.endswith("/assignments/p1")
    assert alice.locator("[data-confirm-upload]").evaluate("box => !box.validity.valid")
    alice.check("[data-confirm-upload]")
    alice.click("button:has-text('Submit for grading')")
    alice.wait_for_url("**/submissions/*")
    assert alice.inner_text("[data-how-it-counts]").startswith("Handed in after the due date (2 days late): it counts")
    alice.screenshot(path=screenshots / "student_submission_late.png", full_page=True)

    with alice.expect_download() as download:
        alice.goto(f"{base_url}/assignments/p1")
        alice.click("[data-handout-zip]")
    assert download.value.suggested_filename == "p1-handout.zip"


def test_instructor_enters_points_without_an_upload_and_grants_an_extension(
    browser,
    late_course,  # noqa: F811
    screenshots: Path,
):  # noqa: F811
    base_url, _ = late_course
    teacher = _signed_in_page(browser, base_url, "teacher@example.edu")
    teacher.wait_for_url("**/instructor")
    teacher.click("a:has-text('Bob Brown')")
    style = teacher.locator("form[data-manual='p1:style']")
    style.locator("input[name=points]").fill("4")
    style.locator("input[name=note]").fill("read at the defense; no upload")
    style.locator("button").click()
    teacher.wait_for_selector("[data-manual-alone='p1']")
    defense = teacher.locator("form[data-manual=':defense']")
    defense.locator("input[name=points]").fill("18")
    defense.locator("button").click()
    teacher.wait_for_selector("text=read at the defense; no upload")

    form = teacher.locator("form[data-extension-form]")
    form.locator("input[name=days]").fill("5")
    form.locator("input[name=note]").fill("medical certificate")
    form.locator("button").click()
    teacher.wait_for_selector("[data-extensions] >> text=medical certificate")
    assert "5 days" in teacher.inner_text("[data-student-dates] tr[data-project='p1']")
    teacher.screenshot(path=screenshots / "instructor_student_extension.png", full_page=True)
    teacher.goto(f"{base_url}/instructor")
    bob_row = "tr[data-student='bob@example.edu']"
    assert float(teacher.inner_text(f"{bob_row} [data-total]")) == 4 / 20 * 80 + 18  # p1 weighs 80 here

    bob = _signed_in_page(browser, base_url, "bob@example.edu")
    bob.wait_for_url("**/assignments")
    bob.click("a:has-text('p1 ·')")
    assert bob.locator("[data-upload-warning]").count() == 0
    assert "extension of 5 days" in bob.inner_text("[data-dates]")


def test_a_superseded_regrade_offers_no_publish_and_the_server_refuses_it(
    browser,
    late_course,  # noqa: F811
    screenshots: Path,
):  # noqa: F811
    base_url, settings = late_course
    teacher_email = "teacher@example.edu"
    engine = make_engine(settings.effective_database_url)
    with make_session_factory(engine).begin() as session:
        alice_id = Gradebook(session).accounts.user_by_email("alice@example.edu").id
    engine.dispose()
    submission_id = _graded_attempt(settings, alice_id, 10.0, utcnow() - timedelta(days=3))
    older = _finished_regrade(settings, submission_id, teacher_email, 12.0)
    newer = _finished_regrade(settings, submission_id, teacher_email, 14.0)

    teacher = _signed_in_page(browser, base_url, teacher_email)
    teacher.wait_for_url("**/instructor")
    teacher.click("[data-regrade-list]")
    teacher.click(f"tr[data-batch='{newer}'] a")
    teacher.click("button:has-text('Publish these scores')")
    teacher.wait_for_selector("text=Published.")
    teacher.goto(f"{base_url}/instructor/regrades/{older}")
    assert "Superseded by" in teacher.inner_text("[data-superseded]")
    assert teacher.locator("button:has-text('Publish these scores')").count() == 0
    csrf = teacher.locator("input[name=csrf_token]").first.get_attribute("value")
    refused = teacher.request.post(f"{base_url}/instructor/regrades/{older}/publish", form={"csrf_token": csrf})
    assert refused.status == 400 and f"superseded: regrade #{newer}" in refused.text()
    teacher.goto(f"{base_url}/instructor/regrades")
    assert teacher.get_attribute(f"tr[data-batch='{older}']", "data-state") == "superseded"
    teacher.screenshot(path=screenshots / "instructor_regrades.png", full_page=True)
