"""The events package's rows: what delivering reads and writes of the outbox (the delivery to
make, the line it waits in, each attempt and the state it leaves), and the deliveries as they
may be shown (the API's list, the web view's events and job pages). The events and their
deliveries are appended by their writers, through the catalogue (library/events.py).

A shown record hides a URL's password here, once, for every reader; only the delivery itself
reads the URL as configured.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from medialib.db import keyset
from medialib.db.engine import Database, Tx
from medialib.db.outbox import DeliveryState
from medialib.db.tables import deliveries, delivery_attempts, events, projects, utcnow
from medialib.db.upsert import insert_ignoring_conflicts
from medialib.media.fetch import redact

# --- Delivering -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    """A delivery still to be made: where, what, and the secret to sign it with; which event
    (by its position in the outbox) about what."""

    id: str
    url: str  # as configured, credentials and all
    payload: dict[str, Any]  # as the event was written (see library/events.py: `as_sent`)
    secret: str
    event_id: int
    project: str
    subject: str
    webhook: str | None = None  # the handle of a webhook configured the original API's way


@dataclass(frozen=True)
class Attempt:
    status: int | None
    error: str | None  # None when the receiver answered 2xx
    seconds: float

    @property
    def delivered(self) -> bool:
        return self.error is None


async def pending(conn: AsyncConnection, delivery_id: str) -> Pending | None:
    """The delivery if it still waits to be made."""
    row = (
        await conn.execute(
            sa.select(
                deliveries.c.url,
                deliveries.c.webhook,
                events.c.id,
                events.c.project,
                events.c.subject,
                events.c.payload,
                projects.c.webhook_secret,
            )
            .join(events, events.c.id == deliveries.c.event_id)
            .join(projects, projects.c.handle == events.c.project)
            .where(deliveries.c.id == delivery_id, deliveries.c.state == DeliveryState.PENDING)
        )
    ).first()
    if row is None:
        return None
    secret = str(row.webhook_secret)
    return Pending(
        delivery_id, row.url, row.payload, secret, row.id, row.project, row.subject, row.webhook
    )


def _same_line(delivery: Pending) -> sa.Select[tuple[str]]:
    """The other pending deliveries to the same URL about the same subject: they go out in the
    order of their events, one at a time."""
    return (
        sa.select(deliveries.c.id)
        .join(events, events.c.id == deliveries.c.event_id)
        .where(
            events.c.subject == delivery.subject,
            events.c.project == delivery.project,
            deliveries.c.url == delivery.url,
            deliveries.c.state == DeliveryState.PENDING,
            deliveries.c.id != delivery.id,
        )
    )


async def waiting_behind(conn: AsyncConnection, delivery: Pending) -> bool:
    """Whether an earlier event's delivery on the same line is not done yet."""
    earlier = _same_line(delivery).where(events.c.id < delivery.event_id).limit(1)
    return (await conn.execute(earlier)).first() is not None


def record(tx: Tx, delivery_id: str, number: int, attempt: Attempt, state: DeliveryState) -> None:
    """The attempt, and the delivery's state after it."""
    tx.execute(
        insert_ignoring_conflicts(tx.conn, delivery_attempts).values(
            delivery_id=delivery_id,
            attempt=number,
            at=utcnow(),
            status_code=attempt.status,
            error=attempt.error[:500] if attempt.error else None,
            duration_ms=int(attempt.seconds * 1000),
        )
    )
    tx.execute(deliveries.update().where(deliveries.c.id == delivery_id).values(state=state))


# --- Shown ------------------------------------------------------------------------------------


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


_SHOWN = sa.select(
    deliveries.c.id,
    deliveries.c.url,
    deliveries.c.state,
    deliveries.c.created_at,
    events.c.type,
    events.c.subject,
).join(events, events.c.id == deliveries.c.event_id)


# What an operator looks for first: deliveries that gave up, and those still being tried after
# a failed attempt (an attempt that succeeds leaves its delivery delivered).
FAILING: Final = "failing"


def _shown_in(state: DeliveryState | Literal["failing"]) -> sa.ColumnElement[bool]:
    if state != FAILING:
        return deliveries.c.state == state
    tried = sa.select(1).where(delivery_attempts.c.delivery_id == deliveries.c.id).exists()
    retrying = sa.and_(deliveries.c.state == DeliveryState.PENDING, tried)
    return sa.or_(deliveries.c.state == DeliveryState.FAILED, retrying)


async def recent_deliveries(
    db: Database,
    project: str,
    *,
    state: DeliveryState | Literal["failing"] | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> DeliveryPage:
    """A project's deliveries, newest first, of one state or `failing` (given up, or pending
    after a failed attempt); `cursor` continues a walk."""
    query = _SHOWN.where(events.c.project == project)
    if state is not None:
        query = query.where(_shown_in(state))
    query = keyset.newest_first(query, deliveries.c.created_at, deliveries.c.id, cursor, limit)
    async with db.read(snapshot=True) as conn:
        rows = (await conn.execute(query)).all()
        shown = await _with_attempts(conn, rows[:limit])
    last = shown[-1] if len(rows) > limit else None
    return DeliveryPage(shown, keyset.encode(last.created_at, last.id) if last else None)


async def deliveries_about(
    db: Database, project: str, event_type: str, subject: str
) -> list[DeliveryRecord]:
    """The deliveries of a project's events of `event_type` about `subject` (a job's webhook:
    `import.finished` about the job), newest first, however many other events came since."""
    query = _SHOWN.where(
        events.c.project == project, events.c.type == event_type, events.c.subject == subject
    ).order_by(deliveries.c.created_at.desc(), deliveries.c.id.desc())
    async with db.read(snapshot=True) as conn:
        return await _with_attempts(conn, (await conn.execute(query)).all())


async def _with_attempts(
    conn: AsyncConnection, rows: Sequence[Row[*tuple[Any, ...]]]
) -> list[DeliveryRecord]:
    shown = [
        DeliveryRecord(r.id, r.type, r.subject, redact(r.url), r.state, r.created_at) for r in rows
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
    return shown
