"""Entries' validity: `invalid` (marked invalid, or outside the validity window of its metadata:
its objects are not served) and `validity_check_at` (the window boundary a task looks again at)

Entries made before are valid until they are next written: before this revision `li-invalid`
and `li-datetime-validity` were kept without effect.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE on both databases: a batch rebuild of media_entries on SQLite would drop
    # its search triggers (migration 0006).
    op.add_column(
        "media_entries",
        sa.Column("invalid", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "media_entries",
        sa.Column("validity_check_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.execute("ALTER TABLE media_entries DROP COLUMN validity_check_at")
    op.execute("ALTER TABLE media_entries DROP COLUMN invalid")
