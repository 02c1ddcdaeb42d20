"""Indexes for the web view's operations page: a job's items by finish time, and webhook
attempts by time, so that the last hour is read without walking the history

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 19:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_import_items_job_id_finished_at", "import_items", ["job_id", "finished_at"])
    op.create_index("ix_delivery_attempts_at", "delivery_attempts", ["at"])


def downgrade() -> None:
    op.drop_index("ix_delivery_attempts_at", "delivery_attempts")
    op.drop_index("ix_import_items_job_id_finished_at", "import_items")
