"""Periodic tasks' next run (the store's sweep, library/doctor.py): one row per periodic task,
so that however many processes start, one chain of runs goes on

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 18:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "periodic_tasks",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_periodic_tasks"),
    )


def downgrade() -> None:
    op.drop_table("periodic_tasks")
