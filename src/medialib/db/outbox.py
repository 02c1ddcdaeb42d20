"""The outbox: events written in the same transaction as the change they tell of, each with one
delivery per destination, so an event is never lost and never sent for a change that was rolled
back. The `events` package delivers them (signed, retried, every attempt recorded); appending
here defers that delivery through the database's dispatch port, in the same transaction.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from medialib.db.engine import NewDelivery, Tx
from medialib.db.tables import deliveries, delivery_attempts, events, utcnow


class DeliveryState(enum.StrEnum):
    PENDING = "pending"  # attempts left
    DELIVERED = "delivered"  # a 2xx answer
    FAILED = "failed"  # every attempt failed


@dataclass(frozen=True)
class Destination:
    """Where one delivery of an event goes; `delivery_id` is the webhook-id it is sent with."""

    delivery_id: str
    url: str
    webhook: str | None = None  # the handle of a webhook configured the original API's way
    hold: float = 0.0  # seconds before its first attempt


def append(
    tx: Tx,
    *,
    project: str,
    type: str,
    subject: str,
    payload: dict[str, Any],
    destinations: Sequence[Destination],
) -> None:
    """Record an event and its deliveries; they are dispatched when `tx` is done."""
    now = utcnow()
    event_id = tx.conn.scalar(
        events.insert()
        .values(project=project, type=type, subject=subject, payload=payload, created_at=now)
        .returning(events.c.id)
    )
    if not destinations:
        return
    tx.execute(
        deliveries.insert(),
        [
            {
                "id": d.delivery_id,
                "event_id": event_id,
                "url": d.url,
                "webhook": d.webhook,
                "state": DeliveryState.PENDING,
                "created_at": now,
            }
            for d in destinations
        ],
    )
    tx.deliveries.extend(NewDelivery(d.delivery_id, d.hold) for d in destinations)


@dataclass(frozen=True)
class DeliveryView:
    """How a delivery stands: its state, how many attempts were made, the last answer's status."""

    state: DeliveryState
    attempts: int
    last_status_code: int | None


async def delivery_of(conn: AsyncConnection, type: str, subject: str) -> DeliveryView | None:
    """The (first) delivery of the event of `type` about `subject`, if there is one yet."""
    delivery = (
        await conn.execute(
            sa.select(deliveries.c.id, deliveries.c.state)
            .join(events, events.c.id == deliveries.c.event_id)
            .where(events.c.subject == subject, events.c.type == type)
            .order_by(deliveries.c.created_at, deliveries.c.id)
            .limit(1)
        )
    ).first()
    if delivery is None:
        return None
    attempts = (
        await conn.execute(
            sa.select(delivery_attempts.c.attempt, delivery_attempts.c.status_code)
            .where(delivery_attempts.c.delivery_id == delivery.id)
            .order_by(delivery_attempts.c.attempt.desc())
        )
    ).all()
    last = attempts[0].status_code if attempts else None
    return DeliveryView(DeliveryState(delivery.state), len(attempts), last)
