"""upload contents kept in the gradebook until the store has them (model: grader/db/models.py UploadContent)

Revision ID: 0003_upload_contents
Revises: 0002_workers_and_batches
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_upload_contents"
down_revision = "0002_workers_and_batches"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upload_contents",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )


def downgrade() -> None:
    op.drop_table("upload_contents")
