"""the worker that graded a job: host, pid, GPU and sandbox image (model: grader/db/models.py GradingJob)

Revision ID: 0006_job_worker_trace
Revises: 0005_extensions
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_job_worker_trace"
down_revision = "0005_extensions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("grading_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("worker_host", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("worker_pid", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("worker_gpu", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("sandbox_image", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("grading_jobs", schema=None) as batch_op:
        batch_op.drop_column("sandbox_image")
        batch_op.drop_column("worker_gpu")
        batch_op.drop_column("worker_pid")
        batch_op.drop_column("worker_host")
