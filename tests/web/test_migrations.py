from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import grader.db.models  # noqa: F401
import grader.plagiarism.review  # noqa: F401
from grader.db.base import Base
from grader.db.migrations import upgrade_to_head
from tests.services import fresh_postgres_schema
from tests.web.conftest import sqlite_url

GRADEBOOK_TABLES = {
    "users",
    "web_sessions",
    "api_tokens",
    "submissions",
    "grading_jobs",
    "grade_records",
    "regrade_batches",
    "manual_scores",
    "plagiarism_cases",
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path: Path) -> Iterator[str]:
    """An empty database: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    with fresh_postgres_schema() as url:
        yield url


def test_migrations_run_up_from_empty_to_exactly_the_models(database_url: str):
    upgrade_to_head(database_url)
    upgrade_to_head(database_url)  # idempotent: a restart migrates nothing
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        assert GRADEBOOK_TABLES <= set(sa.inspect(connection).get_table_names())
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []
