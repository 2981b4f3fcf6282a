"""Service checks for tests: a missing service skips a test locally, but fails it when CI=true.

CI installs and starts every service (.ci/run), so a missing one there is a broken pipeline, not a reason to skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def missing(service: str, why: str) -> None:
    message = f"{service} is not available: {why}"
    if in_ci():
        pytest.fail(f"{message} (CI=true: .ci/run must install and start it)", pytrace=False)
    pytest.skip(message)


def tcp_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_docker():
    """Return a docker client for a live engine."""
    import docker

    try:
        client = docker.from_env()
        client.ping()
    except Exception as error:  # the SDK raises several unrelated types for "no engine"
        missing("Docker engine", str(error))
    return client


def require_redis(url: str = "redis://127.0.0.1:6379/0") -> str:
    if not tcp_open("127.0.0.1", 6379):
        missing("redis-server", "nothing listens on 127.0.0.1:6379")
    return url


def require_postgres() -> str:
    url = os.environ.get("GRADER_TEST_POSTGRES_URL", "postgresql+psycopg://grader:grader@127.0.0.1:5432/grader_test")
    if not tcp_open("127.0.0.1", 5432):
        missing("PostgreSQL", "nothing listens on 127.0.0.1:5432")
    return url


@contextmanager
def fresh_postgres_schema() -> Iterator[str]:
    """A database URL whose tables live in a new, empty schema, dropped afterwards: migrations run up from nothing,
    and parallel runs never touch each other's tables."""
    import sqlalchemy as sa

    url = require_postgres()
    schema = f"test_{os.getpid()}_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def emptying_statement(url: str) -> str:
    """One statement that deletes every row but Alembic's revision from the schema of `url`, children first, and
    restarts its sequences so that ids count from 1 again: the migrated schema as good as new. Reflecting the schema
    takes dozens of catalog queries, so it is done once and the statement run for each test."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as connection:
        tables = sa.MetaData()
        tables.reflect(connection)
        sequences = connection.execute(
            sa.text("SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = current_schema()")
        ).scalars()
        statements = [f'DELETE FROM "{table.name}"' for table in reversed(tables.sorted_tables)]
        statements.remove('DELETE FROM "alembic_version"')
        statements += [f'ALTER SEQUENCE "{name}" RESTART' for name in sequences]
    engine.dispose()
    return "; ".join(statements)


def require_chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        missing("chromium", "Debian's chromium package is not installed")
    return path
