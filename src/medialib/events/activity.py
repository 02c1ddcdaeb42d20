"""A project's webhook deliveries that failed lately, for the web view's operations page: of the
deliveries with a failed attempt since a moment, how many gave up, are still being tried, or got
through in the end; and how many attempts failed.

Bounded by the window: attempts are found by their time (the index on delivery_attempts.at of
migration 0014), not by walking the project's deliveries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from medialib.db.outbox import DeliveryState
from medialib.db.tables import deliveries, delivery_attempts, events


@dataclass(frozen=True)
class FailingDeliveries:
    failed_attempts: int  # attempts since the moment that got no 2xx
    by_state: dict[str, int]  # the deliveries they belong to, by their state now

    @property
    def gave_up(self) -> int:
        return self.by_state[DeliveryState.FAILED]

    @property
    def retrying(self) -> int:
        return self.by_state[DeliveryState.PENDING]


async def failing_deliveries(
    conn: AsyncConnection, project: str, since: dt.datetime
) -> FailingDeliveries:
    query = (
        sa.select(
            deliveries.c.state,
            sa.func.count(sa.distinct(deliveries.c.id)),
            sa.func.count(),
        )
        .select_from(delivery_attempts)
        .join(deliveries, deliveries.c.id == delivery_attempts.c.delivery_id)
        .join(events, events.c.id == deliveries.c.event_id)
        .where(
            delivery_attempts.c.at >= since,
            delivery_attempts.c.error.is_not(None),
            events.c.project == project,
        )
        .group_by(deliveries.c.state)
    )
    rows = (await conn.execute(query)).all()
    found = {state: count for state, count, _ in rows}
    return FailingDeliveries(
        failed_attempts=sum(attempts for _, _, attempts in rows),
        by_state={state: found.get(state, 0) for state in DeliveryState},
    )
