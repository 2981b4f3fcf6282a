"""sign-in failures, regrade requests and their threads, plagiarism runs, case details
(models: grader/db/account_models.py, grader/db/request_models.py, grader/plagiarism/review.py)

Revision ID: 0004_account_safety_and_reviews
Revises: 0003_upload_contents
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_account_safety_and_reviews"
down_revision = "0003_upload_contents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sign_in_failures_email_at", "sign_in_failures", ["email", "at"], unique=False)
    op.create_index("ix_sign_in_failures_address_at", "sign_in_failures", ["address", "at"], unique=False)
    op.create_table(
        "regrade_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("criterion_id", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("override_points", sa.Float(), nullable=True),
        sa.Column("automatic_points", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_regrade_requests_submission_id"), "regrade_requests", ["submission_id"], unique=False)
    op.create_table(
        "regrade_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("override_points", sa.Float(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(["request_id"], ["regrade_requests.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_regrade_messages_request_id"), "regrade_messages", ["request_id"], unique=False)
    op.create_table(
        "plagiarism_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.String(length=100), nullable=False),
        sa.Column("requested_by", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_plagiarism_runs_state"), "plagiarism_runs", ["state"], unique=False)
    with op.batch_alter_table("plagiarism_cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("percentile", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("details", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plagiarism_cases", schema=None) as batch_op:
        batch_op.drop_column("details")
        batch_op.drop_column("percentile")
    op.drop_index(op.f("ix_plagiarism_runs_state"), table_name="plagiarism_runs")
    op.drop_table("plagiarism_runs")
    op.drop_index(op.f("ix_regrade_messages_request_id"), table_name="regrade_messages")
    op.drop_table("regrade_messages")
    op.drop_index(op.f("ix_regrade_requests_submission_id"), table_name="regrade_requests")
    op.drop_table("regrade_requests")
    op.drop_index("ix_sign_in_failures_address_at", table_name="sign_in_failures")
    op.drop_index("ix_sign_in_failures_email_at", table_name="sign_in_failures")
    op.drop_table("sign_in_failures")
