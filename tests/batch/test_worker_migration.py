from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from grader.db.base import Base
from grader.db.migrations import upgrade_to_head

WORKER_TABLES = {"worker_heartbeats", "job_holders", "batch_runs"}


def test_the_worker_and_batch_tables_migrate_to_exactly_their_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'gradebook.sqlite3'}"
    upgrade_to_head(url)
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        assert WORKER_TABLES <= set(sa.inspect(connection).get_table_names())
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert [d for d in differences if any(table in repr(d) for table in WORKER_TABLES)] == []
