"""the outbox (events, deliveries, delivery attempts); dead and derived columns out

A finished job's webhook becomes an outbox event with one delivery (id `msg_<jobId>`, the
webhook-id it was always sent with), its attempts move to `delivery_attempts`, and a delivery
still queued is queued again under the new task. Dropped: the job's copies of its webhook's last
attempt (`webhook_state`, `webhook_attempts`, `webhook_status_code`), the item's `media_id`
(its `result` holds it), and the local task queue's unused `lease_until` and write-only
`last_error`.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 10:00:00
"""

from collections import Counter
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
FINISHED = "import.finished"

# The rows as this migration reads and writes them; timestamps pass through as the driver gives
# them (ISO text on SQLite), so they are left untyped.
_jobs = sa.table(
    "import_jobs",
    sa.column("id"),
    sa.column("project"),
    sa.column("kind"),
    sa.column("webhook"),
    sa.column("context", JSON),
    sa.column("state"),
    sa.column("total"),
    sa.column("finished_at"),
    sa.column("webhook_state"),
    sa.column("webhook_attempts"),
    sa.column("webhook_status_code"),
)
_items = sa.table(
    "import_items", sa.column("job_id"), sa.column("position"), sa.column("external_id"),
    sa.column("state"), sa.column("reason"),
)  # fmt: skip
_old_attempts = sa.table(
    "webhook_attempts", sa.column("job_id"), sa.column("attempt"), sa.column("at"),
    sa.column("status_code"), sa.column("error"), sa.column("duration_ms"),
)  # fmt: skip
_events = sa.table(
    "events", sa.column("id"), sa.column("project"), sa.column("type"), sa.column("subject"),
    sa.column("payload", JSON), sa.column("created_at"),
)  # fmt: skip
_deliveries = sa.table(
    "deliveries", sa.column("id"), sa.column("event_id"), sa.column("url"), sa.column("state"),
    sa.column("created_at"),
)  # fmt: skip
_attempts = sa.table(
    "delivery_attempts", sa.column("delivery_id"), sa.column("attempt"), sa.column("at"),
    sa.column("status_code"), sa.column("error"), sa.column("duration_ms"),
)  # fmt: skip
_tasks = sa.table("tasks", sa.column("id"), sa.column("name"), sa.column("args", JSON))


def upgrade() -> None:
    _create_outbox()
    bind = op.get_bind()
    _move_webhooks(bind)
    _requeue(bind, "deliver_webhook", "deliver_event", _new_args)
    op.drop_table("webhook_attempts")
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy of import_jobs would drop the old table
    # and, with foreign keys on, cascade that into its items.
    for table, column in (
        ("import_jobs", "webhook_state"),
        ("import_jobs", "webhook_attempts"),
        ("import_jobs", "webhook_status_code"),
        ("import_items", "media_id"),
        ("tasks", "lease_until"),
        ("tasks", "last_error"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")


def _create_outbox() -> None:
    op.create_table(
        "events",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("project", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["project"],
            ["projects.handle"],
            name=op.f("fk_events_project_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index("ix_events_subject", "events", ["subject"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("event_id", ID, nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_deliveries_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
    )
    op.create_index("ix_deliveries_event_id", "deliveries", ["event_id"])
    op.create_table(
        "delivery_attempts",
        sa.Column("delivery_id", sa.String(length=64), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_delivery_attempts_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("delivery_id", "attempt", name=op.f("pk_delivery_attempts")),
    )


def _move_webhooks(bind: sa.Connection) -> None:
    """Each finished job's webhook becomes an event with its one delivery and its attempts."""
    jobs = bind.execute(
        sa.select(_jobs).where(_jobs.c.webhook.is_not(None), _jobs.c.webhook_state != "none")
    ).all()
    for job in jobs:
        event_id = bind.execute(
            _events.insert()
            .values(
                project=job.project,
                type=FINISHED,
                subject=job.id,
                payload=_payload(bind, job),
                created_at=job.finished_at,
            )
            .returning(_events.c.id)
        ).scalar_one()
        delivery_id = f"msg_{job.id}"
        bind.execute(
            _deliveries.insert().values(
                id=delivery_id,
                event_id=event_id,
                url=job.webhook,
                state=job.webhook_state,
                created_at=job.finished_at,
            )
        )
        attempts = bind.execute(
            sa.select(_old_attempts).where(_old_attempts.c.job_id == job.id)
        ).all()
        if attempts:
            bind.execute(
                _attempts.insert(),
                [
                    {
                        "delivery_id": delivery_id,
                        "attempt": a.attempt,
                        "at": a.at,
                        "status_code": a.status_code,
                        "error": a.error,
                        "duration_ms": a.duration_ms,
                    }
                    for a in attempts
                ],
            )


def _payload(bind: sa.Connection, job: Any) -> dict[str, Any]:
    """The webhook body as the job's delivery task used to compute it when it ran."""
    items = bind.execute(
        sa.select(_items.c.external_id, _items.c.state, _items.c.reason)
        .where(_items.c.job_id == job.id)
        .order_by(_items.c.position)
    ).all()
    counts = Counter(item.state for item in items)
    failed = [
        {"externalId": i.external_id, "reason": i.reason} for i in items if i.state == "failed"
    ]
    return {
        "source": f"{job.kind}-import",
        "id": job.id,
        "state": job.state,
        "overview": {
            "total": job.total,
            "success": counts["success"],
            "skipped": counts["skipped"],
            "failed": counts["failed"],
            "details": {"failed": failed},
        },
        "context": job.context,
    }


def _new_args(args: dict[str, Any]) -> dict[str, Any]:
    return {"delivery_id": f"msg_{args['job_id']}", "attempt": args["attempt"]}


def _old_args(args: dict[str, Any]) -> dict[str, Any]:
    return {"job_id": args["delivery_id"].removeprefix("msg_"), "attempt": args["attempt"]}


def _requeue(bind: sa.Connection, old: str, new: str, convert: Any) -> None:
    """Tasks queued under the old name (and arguments) run as the new task: procrastinate's
    jobs on PostgreSQL, the local runner's `tasks` rows on SQLite."""
    if bind.dialect.name == "postgresql":
        table = sa.table(
            "procrastinate_jobs", sa.column("id"), sa.column("task_name"), sa.column("args", JSON),
            sa.column("status"),
        )  # fmt: skip
        name = table.c.task_name
        status = sa.cast(table.c.status, sa.Text)  # an enum of procrastinate's
        queued_now = sa.and_(name == old, status.in_(["todo", "doing"]))
    else:
        table = sa.table("tasks", sa.column("id"), sa.column("name"), sa.column("args", JSON))
        name = table.c.name
        queued_now = sa.and_(name == old)
    queued = bind.execute(sa.select(table.c.id, table.c.args).where(queued_now)).all()
    for row in queued:
        bind.execute(
            table.update()
            .where(table.c.id == row.id)
            .values({name: new, "args": convert(row.args)})
        )


def downgrade() -> None:
    bind = op.get_bind()
    op.add_column("tasks", sa.Column("lease_until", TIMESTAMP, nullable=True))
    op.add_column("tasks", sa.Column("last_error", sa.String(length=2000), nullable=True))
    op.add_column("import_items", sa.Column("media_id", sa.String(length=32), nullable=True))
    op.add_column(
        "import_jobs",
        sa.Column("webhook_state", sa.String(10), nullable=False, server_default="none"),
    )
    op.add_column(
        "import_jobs",
        sa.Column("webhook_attempts", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column("import_jobs", sa.Column("webhook_status_code", sa.Integer(), nullable=True))
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
    deliveries = bind.execute(
        sa.select(_deliveries.c.id, _deliveries.c.state, _events.c.subject)
        .join(_events, _events.c.id == _deliveries.c.event_id)
        .where(_events.c.type == FINISHED)
    ).all()
    for delivery in deliveries:
        attempts = bind.execute(
            sa.select(_attempts)
            .where(_attempts.c.delivery_id == delivery.id)
            .order_by(_attempts.c.attempt)
        ).all()
        for a in attempts:
            bind.execute(
                _old_attempts.insert().values(
                    job_id=delivery.subject,
                    attempt=a.attempt,
                    at=a.at,
                    status_code=a.status_code,
                    error=a.error,
                    duration_ms=a.duration_ms,
                )
            )
        bind.execute(
            _jobs.update()
            .where(_jobs.c.id == delivery.subject)
            .values(
                webhook_state=delivery.state,
                webhook_attempts=len(attempts),
                webhook_status_code=attempts[-1].status_code if attempts else None,
            )
        )
    _requeue(bind, "deliver_event", "deliver_webhook", _old_args)
    op.drop_table("delivery_attempts")
    op.drop_table("deliveries")
    op.drop_index("ix_events_subject", table_name="events")
    op.drop_table("events")
