"""End to end in Debian's chromium, an instructor's term: a detector run started from the dashboard, a case confirmed
from the browser and its penalty on both students' project pages; a regrade request thread with an override; sign-in
throttling; and a reinvite that ends a student's sessions and revokes their API token. Screenshots of the pages are
kept in bench/screenshots/ when GRADER_UPDATE_SCREENSHOTS=1."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grader.db.base import make_engine, make_session_factory
from grader.entrypoints.admin import admin
from grader.gradebook.accounts import RosterEntry
from grader.gradebook.repository import Gradebook
from grader.settings import Settings
from grader.web.app import create_app
from tests.plagiarism.conftest import ALICE, BOB, CAROL, MALLORY, STARTER
from tests.web.conftest import FIXTURE_COURSE, PASSWORD, sqlite_url
from tests.web.live_server import serving
from tests.web.test_browser import _signed_in_page, browser, screenshots  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

RUN_TIMEOUT_MS = 180_000
GRADING_TIMEOUT_MS = 120_000
STUDENTS = {
    "alice@example.edu": ("Alice Adams", ALICE),
    "bob@example.edu": ("Bob Brown", BOB),
    "carol@example.edu": ("Carol Cole", CAROL),
    "mallory@example.edu": ("Mallory Moss", MALLORY),
}
WRONG_ADD = "def add(a, b):\n    return a - b\n\n\ndef mean(values):\n    return sum(values) / len(values)\n"


@pytest.fixture
def live_settings(tmp_path: Path) -> Settings:
    course = Path(shutil.copytree(FIXTURE_COURSE, tmp_path / "course"))
    (course / "assignments" / "p1" / "starter").mkdir()
    (course / "assignments" / "p1" / "starter" / "solution.py").write_text(STARTER)
    return Settings(
        course_dir=course, data_dir=tmp_path / "data", sandbox="local", database_url=sqlite_url(tmp_path), workers=2
    )


@pytest.fixture
def live(live_settings: Settings, password_hash: str) -> Iterator[str]:
    app = create_app(live_settings)
    engine = make_engine(live_settings.effective_database_url)
    with make_session_factory(engine).begin() as session:
        gradebook = Gradebook(session)
        people = [(email, name, "student") for email, (name, _) in STUDENTS.items()]
        for email, name, role in [*people, ("teacher@example.edu", "Tess Teacher", "instructor")]:
            user, _ = gradebook.accounts.add_user(RosterEntry(email, name), role)
            gradebook.accounts.set_password(user, password_hash)
    engine.dispose()
    with serving(app) as base_url:
        yield base_url


def _upload(page, tmp_path: Path, code: str) -> None:
    path = tmp_path / "solution.py"
    path.write_text(code)
    page.goto("/assignments/p1")
    page.set_input_files("input[type=file]", str(path))
    page.click("button:has-text('Submit for grading')")
    page.wait_for_url("**/submissions/*")
    page.wait_for_selector("[data-score]", timeout=GRADING_TIMEOUT_MS)


def test_plagiarism_confirmed_in_the_browser_costs_both_students(
    browser,
    live: str,
    tmp_path: Path,  # noqa: F811
    screenshots: Path,
):  # noqa: F811
    students = {}
    for email, (_, code) in STUDENTS.items():
        students[email] = _signed_in_page(browser, live, email)
        students[email].wait_for_url("**/assignments")
        _upload(students[email], tmp_path, code)

    teacher = _signed_in_page(browser, live, "teacher@example.edu")
    teacher.wait_for_url("**/instructor")
    teacher.click("[data-plagiarism-run] button")
    teacher.wait_for_url("**/instructor/plagiarism")
    teacher.wait_for_selector("tr[data-run][data-state='done']", timeout=RUN_TIMEOUT_MS)  # the page reloads itself
    assert teacher.locator("tr[data-case]").count() == 1
    assert "Alice Adams · Mallory Moss" in teacher.inner_text("tr[data-case]")
    teacher.screenshot(path=screenshots / "instructor_plagiarism.png", full_page=True)

    teacher.goto("/instructor")
    teacher.click("tr[data-student='alice@example.edu'] [data-case-link]")
    teacher.wait_for_url("**/instructor/plagiarism/cases/*")
    assert teacher.locator("[data-side-by-side] mark.token").count() >= 2
    teacher.fill("textarea[name=comment]", "the same tokenizer quirks in both")
    teacher.screenshot(path=screenshots / "instructor_plagiarism_case.png", full_page=True)
    teacher.click("button[value=confirmed]")
    teacher.wait_for_selector("[data-case-status] .flag-confirmed")

    for email, page in students.items():
        page.goto("/assignments/p1")
        penalized = email in ("alice@example.edu", "mallory@example.edu")
        assert page.locator("[data-penalty]").count() == (1 if penalized else 0), email
        if penalized:
            assert "the same tokenizer quirks in both" in page.inner_text("[data-penalty]")
    students["mallory@example.edu"].screenshot(path=screenshots / "student_plagiarism_penalty.png", full_page=True)


def test_regrade_request_thread_seen_by_both_with_an_override(
    browser,
    live: str,
    tmp_path: Path,  # noqa: F811
    screenshots: Path,
):  # noqa: F811
    alice = _signed_in_page(browser, live, "alice@example.edu")
    alice.wait_for_url("**/assignments")
    _upload(alice, tmp_path, WRONG_ADD)
    alice.select_option("[data-ask-review] select[name=criterion_id]", "addition")
    alice.fill("[data-ask-review] textarea[name=message]", "add passes my own tests; please look again")
    alice.click("[data-ask-review] button")
    alice.wait_for_url("**/regrade-requests/*")
    thread_url = alice.url

    teacher = _signed_in_page(browser, live, "teacher@example.edu")
    teacher.wait_for_url("**/instructor")
    teacher.click("[data-regrade-requests]")
    teacher.click("tr[data-request] a")
    assert "please look again" in teacher.inner_text("[data-thread]")
    teacher.fill("[data-reply] textarea[name=message]", "The sign is wrong, the structure right: half the points.")
    teacher.fill("[data-reply] input[name=override_points]", "5")
    teacher.click("[data-reply] button")
    teacher.wait_for_selector("[data-override]")

    alice.goto(thread_url)
    assert [m.get_attribute("data-role") for m in alice.locator("[data-message]").all()] == ["student", "instructor"]
    assert "half the points" in alice.inner_text("[data-thread]")
    assert alice.inner_text("[data-request-status]") == "answered"
    alice.screenshot(path=screenshots / "student_regrade_request.png", full_page=True)


def test_sign_in_throttled_after_five_failures(browser, live: str, screenshots: Path):  # noqa: F811
    page = browser.new_context(base_url=live).new_page()
    for _ in range(5):
        page.goto("/login")
        page.fill("input[name=email]", "carol@example.edu")
        page.fill("input[name=password]", "not my password")
        page.click("button:has-text('Sign in')")
        assert "E-mail or password is wrong." in page.inner_text(".alert")
    page.goto("/login")
    page.fill("input[name=email]", "carol@example.edu")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    assert "Too many failed sign-ins" in page.inner_text(".alert")
    assert page.url.endswith("/login")
    page.screenshot(path=screenshots / "sign_in_throttled.png", full_page=True)


def test_reinvite_signs_the_student_out_and_revokes_their_token(
    browser,
    live: str,  # noqa: F811
    live_settings: Settings,
):
    bob = _signed_in_page(browser, live, "bob@example.edu")
    bob.wait_for_url("**/assignments")
    bob.goto("/account")
    bob.click("button:has-text('Create a token')")
    token = bob.inner_text("[data-token]")
    headers = {"Authorization": f"Bearer {token}"}
    assert bob.request.get("/api/assignments", headers=headers).status == 200
    assert bob.locator("tr[data-token-id]").count() == 1

    env = {
        "GRADER_DATA_DIR": str(live_settings.data_dir),
        "GRADER_COURSE_DIR": str(live_settings.course_dir),
        "GRADER_DATABASE_URL": live_settings.effective_database_url,
    }
    result = CliRunner().invoke(admin, ["reinvite", "bob@example.edu"], env=env)
    assert result.exit_code == 0, result.output

    bob.goto("/account")
    assert bob.url.endswith("/login")
    assert bob.request.get("/api/assignments", headers=headers).status == 401


def test_api_docs_render_with_no_internet(browser, live: str):  # noqa: F811
    context = browser.new_context(base_url=live)
    outside: list[str] = []

    def only_this_server(route) -> None:
        if route.request.url.startswith(live):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_this_server)
    page = context.new_page()
    page.goto("/api/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "grader" in page.inner_text(".swagger-ui .info .title")
    assert page.locator(".opblock").count() > 5  # the operations, read from /api/openapi.json
    assert outside == []


def test_times_show_in_the_browsers_time_zone_beside_utc(browser, live: str):  # noqa: F811
    page = browser.new_context(base_url=live, timezone_id="Asia/Tokyo").new_page()
    page.goto("/login")
    page.fill("input[name=email]", "alice@example.edu")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url("**/assignments")
    page.goto("/assignments/p1")  # app.js told the server the zone on the page before
    assert "2099-01-01 00:00 UTC (2099-01-01 09:00 Asia/Tokyo)" in page.inner_text("main")
