"""Entries' references to other entries in their metadata (li-image, li-poster-image,
li-video-reference), indexed for incomingMediaReferences: one row per (entry, property, entry
named, kind named), going with the entry that holds the reference

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "media_references",
        sa.Column("project", sa.String(100), nullable=False),
        sa.Column("entry_id", sa.String(32), nullable=False),
        sa.Column("property", sa.String(100), nullable=False),
        sa.Column("target_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.ForeignKeyConstraint(
            ["project", "entry_id"],
            ["media_entries.project", "media_entries.id"],
            name="fk_media_references_project_media_entries",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "project", "entry_id", "property", "target_id", "kind", name="pk_media_references"
        ),
    )
    op.create_index(
        "ix_media_references_project_target_id",
        "media_references",
        ["project", "target_id", "entry_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_media_references_project_target_id", table_name="media_references")
    op.drop_table("media_references")
