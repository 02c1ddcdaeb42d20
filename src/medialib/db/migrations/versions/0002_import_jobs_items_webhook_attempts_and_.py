"""import jobs, items, webhook attempts and tasks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:35:31.894379
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("args", JSON, nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("run_at", TIMESTAMP, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=32), nullable=True),
        sa.Column("lease_until", TIMESTAMP, nullable=True),
        sa.Column("last_error", sa.String(length=2000), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    op.create_index("ix_tasks_state_run_at", "tasks", ["state", "run_at"])
    op.create_table(
        "import_jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("project", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("system_name", sa.String(length=200), nullable=False),
        sa.Column("webhook", sa.String(length=2048), nullable=True),
        sa.Column("context", JSON, nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("pending", sa.Integer(), nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("webhook_state", sa.String(length=10), nullable=False),
        sa.Column("webhook_attempts", sa.Integer(), nullable=False),
        sa.Column("webhook_status_code", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project"],
            ["projects.handle"],
            name=op.f("fk_import_jobs_project_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_jobs")),
    )
    op.create_table(
        "import_items",
        sa.Column("job_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=500), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("metadata", JSON, nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=True),
        sa.Column("reason_code", sa.String(length=50), nullable=True),
        sa.Column("media_id", sa.String(length=32), nullable=True),
        sa.Column("result", JSON, nullable=True),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["import_jobs.id"],
            name=op.f("fk_import_items_job_id_import_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", "position", name=op.f("pk_import_items")),
    )
    op.create_index("ix_import_items_job_id_state", "import_items", ["job_id", "state"])
    op.create_table(
        "webhook_attempts",
        sa.Column("job_id", sa.String(length=32), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["import_jobs.id"],
            name=op.f("fk_webhook_attempts_job_id_import_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", "attempt", name=op.f("pk_webhook_attempts")),
    )
    with op.batch_alter_table("media_entries") as batch_op:
        batch_op.add_column(sa.Column("import_fingerprint", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("media_entries") as batch_op:
        batch_op.drop_column("import_fingerprint")
    op.drop_table("webhook_attempts")
    op.drop_index("ix_import_items_job_id_state", table_name="import_items")
    op.drop_table("import_items")
    op.drop_table("import_jobs")
    op.drop_index("ix_tasks_state_run_at", table_name="tasks")
    op.drop_table("tasks")
