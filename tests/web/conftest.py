"""Web and gradebook tests run on a real database: SQLite always, PostgreSQL too where it runs (always in CI)."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from grader.db.base import make_engine, make_session_factory
from grader.gradebook.accounts import RosterEntry
from grader.gradebook.repository import Gradebook
from grader.services.upload_rate import UploadRate
from grader.settings import Settings
from grader.web.app import create_app
from grader.web.options import WebOptions

FIXTURE_COURSE = Path(__file__).resolve().parent / "course"
SOLUTIONS = FIXTURE_COURSE / "solutions"
PASSWORD = "correct horse battery"
GRADING_TIMEOUT_S = 90


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'gradebook.sqlite3'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path: Path) -> str:
    """A gradebook of this test's own: a SQLite file not made yet, or this test process's PostgreSQL schema, emptied
    (test runs in parallel, pytest -n or two clones on one machine, never touch each other's tables)."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    return request.getfixturevalue("postgres_gradebook")()


@pytest.fixture
def course_dir(tmp_path: Path) -> Path:
    """A private copy of the fixture course, so a test may change a judge or a rubric."""
    return Path(shutil.copytree(FIXTURE_COURSE, tmp_path / "course"))


@pytest.fixture
def settings(tmp_path: Path, course_dir: Path, database_url: str, migrate_gradebook: Callable[[str], None]) -> Settings:
    """Over a gradebook at the head revision (tests/web/test_migrations.py runs the migrations from empty)."""
    migrate_gradebook(database_url)
    return Settings(
        course_dir=course_dir,
        data_dir=tmp_path / "data",
        database_url=database_url,
        sandbox="local",
        workers=2,
        max_upload_bytes=256 * 1024,
    )


@pytest.fixture
def session_factory(settings: Settings):
    """The gradebook of `settings`."""
    engine = make_engine(settings.effective_database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def web_options(request) -> WebOptions:
    """Overridable per test with `@pytest.mark.parametrize("web_options", [{...}], indirect=True)`."""
    return WebOptions(
        upload_rate=UploadRate(uploads=3, window=timedelta(minutes=10)),
        status_poll_ms=300,
        **getattr(request, "param", {}),
    )


@pytest.fixture
def client(settings: Settings, web_options: WebOptions) -> Iterator[TestClient]:
    with TestClient(create_app(settings, web_options)) as test_client:
        yield test_client


@dataclass(frozen=True)
class Person:
    id: int
    email: str
    name: str


@pytest.fixture(scope="session")
def password_hash() -> str:
    """PASSWORD under argon2 at its lowest cost. A check reads the cost from the stored hash: at the production cost
    (`hash_password`, slow on purpose) every sign-in of every test spent a fifth of a second of CPU on it."""
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)


def set_password_hash(settings: Settings, person: Person, password_hash: str) -> None:
    engine = make_engine(settings.effective_database_url)
    with make_session_factory(engine).begin() as session:
        accounts = Gradebook(session).accounts
        accounts.set_password(accounts.user(person.id), password_hash)
    engine.dispose()


@pytest.fixture
def people_in(password_hash: str):
    """Adds two students and an instructor, passwords set, to the (migrated) database of `settings`."""
    return lambda settings: _add_people(settings, password_hash)


@pytest.fixture
def people(client: TestClient, settings: Settings, password_hash: str) -> dict[str, Person]:
    """Two students and an instructor with passwords set (the invitation flow has its own test)."""
    return _add_people(settings, password_hash)


def _add_people(settings: Settings, password_hash: str) -> dict[str, Person]:
    engine = make_engine(settings.effective_database_url)
    made = {}
    with make_session_factory(engine).begin() as session:
        gradebook = Gradebook(session)
        for key, email, name, number, role in [
            ("alice", "alice@example.edu", "Alice Adams", "s001", "student"),
            ("bob", "bob@example.edu", "Bob Brown", "s002", "student"),
            ("teacher", "teacher@example.edu", "Tess Teacher", None, "instructor"),
        ]:
            user, _ = gradebook.accounts.add_user(RosterEntry(email, name, number), role)
            gradebook.accounts.set_password(user, password_hash)
            made[key] = Person(user.id, email, name)
    engine.dispose()
    return made


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF field"
    return match.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Sign `client` in; returns the session's CSRF token."""
    client.cookies.clear()
    form = client.get("/login")
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_from(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_from(client.get("/account").text)


def upload(
    client: TestClient,
    csrf: str,
    solution: str,
    assignment_id: str = "p1",
    name: str = "solution.py",
    confirm: bool = True,
):
    """As the page's form sends it; `confirm` ticks the box a late or replacing upload asks for."""
    content = (SOLUTIONS / solution).read_bytes()
    fields = {"csrf_token": csrf, **({"confirm_upload": "yes"} if confirm else {})}
    return client.post(
        f"/assignments/{assignment_id}/submissions",
        data=fields,
        files={"file": (name, content, "text/x-python")},
        follow_redirects=False,
    )


def submission_id_of(response) -> int:
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


def wait_graded(client: TestClient, submission_id: int, api_headers: dict[str, str] | None = None) -> str:
    """Poll like the page (or an API client) does until grading ends; returns the final status."""
    deadline = time.monotonic() + GRADING_TIMEOUT_S
    while time.monotonic() < deadline:
        if api_headers is None:
            state = client.get(f"/submissions/{submission_id}/status").json()
            finished = state["finished"]
        else:
            state = client.get(f"/api/submissions/{submission_id}", headers=api_headers).json()
            finished = state["result"] is not None
        if finished:
            return state["status"]
        time.sleep(0.2)
    raise AssertionError(f"submission {submission_id} not graded within {GRADING_TIMEOUT_S} s")


def staging_left_over(settings: Settings) -> list[Path]:
    """What uploads left in the store's staging folder: nothing, once each is stored or refused."""
    staging = settings.store_dir / "tmp"
    return list(staging.iterdir()) if staging.exists() else []
