"""Uploads handed out and not registered yet: each key belongs to the project that asked for
it, so no other project can register the object put there

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


def downgrade() -> None:
    op.drop_table("uploads")
