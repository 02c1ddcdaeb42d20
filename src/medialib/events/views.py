"""What happened to a project's deliveries: each with its event, its state and every attempt,
newest first, so a receiver that is failing or blocked shows why.

These records are what may be shown (the API's list, the web view): a URL's password is hidden
here, once, for every one of them; only the delivery itself reads the URL as configured."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa

from medialib.db import keyset
from medialib.db.engine import Database
from medialib.db.outbox import DeliveryState
from medialib.db.tables import deliveries, delivery_attempts, events
from medialib.media.fetch import redact


@dataclass(frozen=True)
class AttemptRecord:
    attempt: int
    at: dt.datetime
    status_code: int | None
    error: str | None
    duration_ms: int


@dataclass
class DeliveryRecord:
    id: str
    event: str
    subject: str
    url: str  # redacted
    state: str
    created_at: dt.datetime
    attempts: list[AttemptRecord] = field(default_factory=list)


@dataclass
class DeliveryPage:
    deliveries: list[DeliveryRecord]
    cursor: str | None


async def recent_deliveries(
    db: Database,
    project: str,
    *,
    state: DeliveryState | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> DeliveryPage:
    query = (
        sa.select(
            deliveries.c.id,
            deliveries.c.url,
            deliveries.c.state,
            deliveries.c.created_at,
            events.c.type,
            events.c.subject,
        )
        .join(events, events.c.id == deliveries.c.event_id)
        .where(events.c.project == project)
    )
    if state is not None:
        query = query.where(deliveries.c.state == state)
    query = keyset.newest_first(query, deliveries.c.created_at, deliveries.c.id, cursor, limit)
    async with db.read(snapshot=True) as conn:
        rows = (await conn.execute(query)).all()
        shown = [
            DeliveryRecord(r.id, r.type, r.subject, redact(r.url), r.state, r.created_at)
            for r in rows[:limit]
        ]
        attempts = await conn.execute(
            sa.select(delivery_attempts)
            .where(delivery_attempts.c.delivery_id.in_([d.id for d in shown]))
            .order_by(delivery_attempts.c.delivery_id, delivery_attempts.c.attempt)
        )
        by_id = {d.id: d for d in shown}
        for a in attempts:
            # Errors are redacted when recorded; older rows may predate that.
            error = redact(a.error) if a.error else None
            record = AttemptRecord(a.attempt, a.at, a.status_code, error, a.duration_ms)
            by_id[a.delivery_id].attempts.append(record)
    last = shown[-1] if len(rows) > limit else None
    return DeliveryPage(shown, keyset.encode(last.created_at, last.id) if last else None)
