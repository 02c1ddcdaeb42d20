"""Uploads handed out and not registered yet: each key belongs to the project that asked for
it, so no other project can register the object put there; and objects let go of stay their
project's (`assets.released_at`) until their bytes are deleted, so none can be taken up by
another project in between

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "uploads",
        sa.Column("key", sa.String(1024), nullable=False),
        sa.Column("project", sa.String(100), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project"],
            ["projects.handle"],
            name="fk_uploads_project_projects",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", name="pk_uploads"),
    )
    op.add_column("assets", sa.Column("released_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("assets", "released_at")
    op.drop_table("uploads")
