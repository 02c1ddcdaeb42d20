"""The events package's task set: deliver an outbox delivery, on a fixed retry schedule
(`MEDIALIB_WEBHOOK_RETRY_DELAYS`: attempt 1 goes out at once, each delay is the wait before the
next one)."""

from __future__ import annotations

from medialib.db.engine import NewDelivery, Tx
from medialib.events.delivery import DeliveryServices, log_attempt, record, send
from medialib.events.store import pending, waiting_behind
from medialib.tasks.core import TaskContext, TaskSet

TASKS = TaskSet[DeliveryServices]()
FIRST_WAIT = 0.1  # seconds before a delivery behind another looks again; doubling
MAX_WAIT = 30.0


@TASKS.task("deliver_event", max_attempts=3)
async def deliver(
    ctx: TaskContext[DeliveryServices], delivery_id: str, attempt: int, waited: int = 0
) -> None:
    services = ctx.services
    async with services.db.read() as conn:
        delivery = await pending(conn, delivery_id)
        if delivery is None:  # delivered or given up already (a task run twice)
            return
        behind = await waiting_behind(conn, delivery)
    if behind:
        # An entry's events go out in order: look again a little later, then less often. (One
        # task per delivery at a time, so a delivery is never sent twice at once.)
        pause = min(MAX_WAIT, FIRST_WAIT * 2**waited)
        await services.db.transact(
            lambda tx: deliver.defer(
                tx, delay=pause, delivery_id=delivery_id, attempt=attempt, waited=waited + 1
            )
        )
        return
    result = await send(services, delivery)
    delays = services.settings.webhook_retry_delays
    last = attempt > len(delays)

    def write(tx: Tx) -> None:
        record(tx, delivery, attempt, result, last)
        if not result.delivered and not last:
            deliver.defer(
                tx, delay=delays[attempt - 1], delivery_id=delivery_id, attempt=attempt + 1
            )

    await services.db.transact(write)
    log_attempt(delivery, attempt, result, last)


def dispatch(tx: Tx, new: list[NewDelivery]) -> None:
    """The database's dispatch port: the first attempt of each new delivery, in the transaction
    that appended it to the outbox (after its hold, if it has one)."""
    for delivery in new:
        deliver.defer(tx, delay=delivery.hold, delivery_id=delivery.id, attempt=1)
