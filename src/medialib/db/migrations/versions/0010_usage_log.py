"""Entries' usage logs: where and when an entry was (or is to be) published, one row per usage
log entry, reported with PATCH (addUsageLogEntry, …) and going with its entry

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    when = sa.DateTime(timezone=True)
    op.create_table(
        "usage_log_entries",
        sa.Column("project", sa.String(100), nullable=False),
        sa.Column("entry_id", sa.String(32), nullable=False),
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("purpose", sa.String(100), nullable=False),
        sa.Column("url", sa.String(2048), nullable=True),
        sa.Column("params", json, nullable=False),
        sa.Column("document_id", sa.BigInteger, nullable=True),
        sa.Column("publication_id", sa.BigInteger, nullable=True),
        sa.Column("reporting_date", when, nullable=False),
        sa.Column("publication_date", when, nullable=True),
        sa.ForeignKeyConstraint(
            ["project", "entry_id"],
            ["media_entries.project", "media_entries.id"],
            name="fk_usage_log_entries_project_media_entries",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project", "entry_id", "id", name="pk_usage_log_entries"),
    )
    op.create_index(
        "ix_usage_log_entries_project_entry_id_document_id",
        "usage_log_entries",
        ["project", "entry_id", "document_id"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_usage_log_entries_project_entry_id_document_id", table_name="usage_log_entries"
    )
    op.drop_table("usage_log_entries")
