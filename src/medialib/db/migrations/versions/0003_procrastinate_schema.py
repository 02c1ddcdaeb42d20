"""procrastinate's schema, on PostgreSQL (SQLite deployments use the local task runner)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:00:00
"""

from collections.abc import Sequence

from alembic import op
from procrastinate.schema import SchemaManager

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# procrastinate 3.10's whole schema. A later procrastinate release brings migration scripts
# (SchemaManager.get_migrations_path()); each gets a revision of its own that runs it.


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(SchemaManager.get_schema())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, "
            "procrastinate_jobs, procrastinate_workers CASCADE"
        )
