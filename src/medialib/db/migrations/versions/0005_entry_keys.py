"""entry_keys: every key an entry has pointed at, for the keys endpoint (CDN purges); an index
for listing a project's jobs newest first

Keys are recorded from this revision on; an entry's current keys come from the entry itself, so
nothing needs to be filled in for entries made before.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "entry_keys",
        sa.Column("project", sa.String(100), primary_key=True),
        sa.Column("entry_id", sa.String(32), primary_key=True),
        sa.Column("key", sa.String(1024), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project", "entry_id"],
            ["media_entries.project", "media_entries.id"],
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_import_jobs_project_started_at", "import_jobs", ["project", "started_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_import_jobs_project_started_at", table_name="import_jobs")
    op.drop_table("entry_keys")
