"""Shared fixtures: settings over the small fixture course or the real course, and graders per sandbox backend."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from grader.db.migrations import upgrade_to_head
from grader.pipeline import Grader
from grader.sandbox.local_backend import LocalBackend
from grader.settings import Settings
from tests.services import emptying_statement, fresh_postgres_schema, missing, require_docker

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parent.parent
FIXTURE_COURSE = REPO / "tests" / "fixtures" / "course"
# A test that uses one of these fixtures (directly or through another fixture) needs that service, and is marked so;
# the quick tier (`-m "not docker and not slow"`, README) leaves out docker tests and keeps the others that are quick.
SERVICE_FIXTURES = {
    "docker_backend": "docker",
    "redis_test_url": "redis",
    "postgres_url": "postgres",
    "browser": "browser",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, marker in SERVICE_FIXTURES.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(getattr(pytest.mark, marker))


@pytest.fixture(scope="session")
def migrate_gradebook(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], None]:
    """Brings the gradebook at a database URL to the head revision. A SQLite file not made yet becomes a copy of a
    template that Alembic migrated once per test process: migrating each test's file anew was a large part of a web
    test, mostly spent waiting on the disk. Other databases are migrated in place. tests/web/test_migrations.py runs
    Alembic from empty."""
    template = tmp_path_factory.mktemp("gradebook-template") / "gradebook.sqlite3"
    upgrade_to_head(f"sqlite:///{template}")
    leftovers = sorted(path.name for path in template.parent.iterdir() if path != template)
    assert not leftovers, f"the template's write-ahead log was not folded back on close: {leftovers}"

    def migrate(database_url: str) -> None:
        url = make_url(database_url)
        if url.get_backend_name() != "sqlite" or Path(url.database).exists():
            upgrade_to_head(database_url)
            return
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, url.database)

    return migrate


@pytest.fixture(scope="session")
def postgres_gradebook() -> Iterator[Callable[[], str]]:
    """This test process's PostgreSQL gradebook: a schema of its own, migrated once; each call empties it and gives its
    URL. Creating, migrating and dropping a schema for each test cost more than most of its tests, mostly on the
    server; emptying costs one round trip. A test gets it in the state migrations leave, ids counting from 1."""
    with fresh_postgres_schema() as url:
        upgrade_to_head(url)
        statement = emptying_statement(url)
        engine = create_engine(url)

        def emptied() -> str:
            with engine.begin() as connection:
                connection.exec_driver_sql(statement)
            return url

        yield emptied
        engine.dispose()


@pytest.fixture
def fixture_settings(tmp_path: Path) -> Settings:
    """The tiny arithmetic course in tests/fixtures/course, with a fresh data folder."""
    return Settings(course_dir=FIXTURE_COURSE, data_dir=tmp_path / "data")


@pytest.fixture
def course_settings(tmp_path: Path) -> Settings:
    """The real course in this repository, with a fresh data folder."""
    return Settings(course_dir=REPO, data_dir=tmp_path / "data")


@pytest.fixture
def local_grader(fixture_settings: Settings) -> Grader:
    return Grader(fixture_settings, LocalBackend(use_bwrap=False))


@pytest.fixture
def bwrap_grader(fixture_settings: Settings) -> Grader:
    """The local sandbox under bubblewrap, with the course's hidden folders and the data folder masked."""
    backend = LocalBackend(
        masked_paths=(
            fixture_settings.assignments_dir,
            fixture_settings.rubrics_dir,
            fixture_settings.references_dir,
            fixture_settings.data_dir,
        )
    )
    if backend.bwrap is None:
        missing("bubblewrap", "bwrap is not installed or cannot create namespaces here")
    return Grader(fixture_settings, backend)


@pytest.fixture(scope="session")
def docker_backend():
    """The real Docker sandbox with the image built from sandbox/ (built once if missing)."""
    from grader.sandbox.docker_backend import DockerBackend
    from grader.sandbox.image import ensure_image

    client = require_docker()
    settings = Settings(course_dir=REPO)
    image = ensure_image(client, settings.sandbox_dir, settings.data_dir / "sandbox-build")
    return DockerBackend(client, image)


@pytest.fixture
def docker_grader(fixture_settings: Settings, docker_backend) -> Grader:
    return Grader(fixture_settings, docker_backend)


@pytest.fixture
def docker_course_grader(course_settings: Settings, docker_backend) -> Grader:
    return Grader(course_settings, docker_backend)
