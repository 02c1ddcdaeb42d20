"""Perceptual hashes of analysed pictures, in four indexed bands of 16 bits, for finding
near-duplicates within a project without a full scan (library/similar.py); and the runs of the
analysis over entries imported before it existed (library/analysis.py)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BANDS = ("band0", "band1", "band2", "band3")


def upgrade() -> None:
    op.create_table(
        "perceptual_hashes",
        sa.Column("project", sa.String(100), nullable=False),
        sa.Column("entry_id", sa.String(32), nullable=False),
        sa.Column("hash", sa.BigInteger, nullable=False),
        *(sa.Column(band, sa.Integer, nullable=False) for band in BANDS),
        sa.ForeignKeyConstraint(
            ["project", "entry_id"],
            ["media_entries.project", "media_entries.id"],
            name="fk_perceptual_hashes_project_media_entries",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project", "entry_id", name="pk_perceptual_hashes"),
    )
    for band in BANDS:
        # Covering: the rows a lookup checks (some 8,000 on a million entries) are read from
        # the index alone, never from the table (on SQLite each would be a random read).
        op.create_index(
            f"ix_perceptual_hashes_{band}",
            "perceptual_hashes",
            ["project", band, "hash", "entry_id"],
        )
    op.create_table(
        "analysis_runs",
        sa.Column("project", sa.String(100), nullable=False),
        sa.Column("chain", sa.String(32), nullable=False),
        sa.Column("after_id", sa.String(32), nullable=True),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("looked_at", sa.Integer, nullable=False),
        sa.Column("analysed", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("project", name="pk_analysis_runs"),
    )


def downgrade() -> None:
    op.drop_table("analysis_runs")
    for band in BANDS:
        op.drop_index(f"ix_perceptual_hashes_{band}", table_name="perceptual_hashes")
    op.drop_table("perceptual_hashes")
