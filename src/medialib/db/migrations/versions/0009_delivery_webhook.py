"""A delivery remembers the webhook configured the original API's way that it goes to (its
handle), so that it is sent in that webhook's format and signed with its secret

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("webhook", sa.String(50), nullable=True))


def downgrade() -> None:
    # In place on both databases (SQLite since 3.35): a batch copy of the table would drop it
    # first, and its attempts with it (ON DELETE CASCADE).
    op.execute("ALTER TABLE deliveries DROP COLUMN webhook")
