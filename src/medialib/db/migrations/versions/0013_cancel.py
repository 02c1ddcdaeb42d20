"""Import jobs' `cancelled_at`: when a job was cancelled (its state reads `failed` then, and its
status and job list say when)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 18:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("import_jobs", sa.Column("cancelled_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.execute("ALTER TABLE import_jobs DROP COLUMN cancelled_at")
