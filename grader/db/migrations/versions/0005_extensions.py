"""per-student extensions of a project's dates (model: grader/db/course_models.py Extension)

Revision ID: 0005_extensions
Revises: 0004_account_safety_and_reviews
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_extensions"
down_revision = "0004_account_safety_and_reviews"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "extensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.String(length=64), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("granted_by", sa.Integer(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["granted_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_extensions_key", "extensions", ["user_id", "assignment_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_extensions_key", table_name="extensions")
    op.drop_table("extensions")
