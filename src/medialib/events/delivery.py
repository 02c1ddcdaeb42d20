"""One delivery of an outbox event: a POST signed per Standard Webhooks with the project's
secret, sent through the same address guard as downloads and never following a redirect, every
attempt recorded. The `webhook-id` is the delivery's id on every attempt, so receivers can drop
duplicates.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Protocol

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from standardwebhooks.webhooks import Webhook

from medialib.db.engine import Tx
from medialib.db.outbox import DeliveryState
from medialib.db.tables import deliveries, delivery_attempts, events, projects, utcnow
from medialib.db.upsert import insert_ignoring_conflicts
from medialib.media.fetch import Fetcher, FetchError, redact
from medialib.settings import Settings
from medialib.tasks.core import TaskServices

log = logging.getLogger("medialib.events")


class DeliveryServices(TaskServices, Protocol):
    """What delivering needs besides the database."""

    @property
    def settings(self) -> Settings: ...

    @property
    def fetcher(self) -> Fetcher: ...


@dataclass(frozen=True)
class Pending:
    """A delivery still to be made: where, what, and the secret to sign it with; which event
    (by its position in the outbox) about what."""

    id: str
    url: str
    body: str
    secret: str
    event_id: int = 0
    project: str = ""
    subject: str = ""


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
    payload = row.payload
    if "deliveryId" in payload:  # entry events name their delivery
        payload = payload | {"deliveryId": delivery_id}
    body = orjson.dumps(payload).decode()
    secret = str(row.webhook_secret)
    return Pending(delivery_id, row.url, body, secret, row.id, row.project, row.subject)


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


def signed_headers(secret: str, message_id: str, body: str) -> dict[str, str]:
    now = utcnow()
    return {
        "Content-Type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, now, body),
    }


async def send(services: DeliveryServices, delivery: Pending) -> Attempt:
    started = time.monotonic()
    try:
        status = await services.fetcher.post(
            delivery.url,
            delivery.body.encode(),
            signed_headers(delivery.secret, delivery.id, delivery.body),
            services.settings.webhook_timeout,
        )
    except FetchError as failure:
        # Stored, listed and logged: a message that quotes the URL must not carry its password.
        return Attempt(None, redact(failure.message), time.monotonic() - started)
    error = None if 200 <= status < 300 else f"HTTP {status}"
    return Attempt(status, error, time.monotonic() - started)


def record(tx: Tx, delivery: Pending, number: int, attempt: Attempt, last: bool) -> None:
    """The attempt, and the delivery's state after it."""
    delivery_id = delivery.id
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
    if attempt.delivered:
        state = DeliveryState.DELIVERED
    else:
        state = DeliveryState.FAILED if last else DeliveryState.PENDING
        log.info(
            "delivery %s to %s, attempt %d: %s",
            delivery_id,
            redact(delivery.url),
            number,
            attempt.error,
        )
    tx.execute(deliveries.update().where(deliveries.c.id == delivery_id).values(state=state))
