"""The library package's task set: delete stored objects no entry points at any more (and their
renditions), after the transaction that let go of them is committed; look at entries again
when one of their validity windows opens or closes (library/validity.py); and sweep the store
of expired uploads and orphaned renditions periodically (library/doctor.py)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection, Mapping
from typing import Protocol

import sqlalchemy as sa

from medialib.db.engine import Database, Tx
from medialib.db.tables import assets, media_entries, periodic_tasks, utcnow
from medialib.db.upsert import insert_ignoring_conflicts
from medialib.library import doctor, validity
from medialib.library.assets import variant_prefix
from medialib.library.events import record_entry_changes
from medialib.library.projects import Project
from medialib.media.storage import Storage
from medialib.tasks.core import TaskContext, TaskServices, TaskSet

log = logging.getLogger("medialib.library")


class LibraryServices(TaskServices, Protocol):
    @property
    def storage(self) -> Storage: ...

    @property
    def projects(self) -> Mapping[str, Project]: ...


TASKS = TaskSet[LibraryServices]()


@TASKS.task("delete_objects", max_attempts=10)
async def delete_objects(ctx: TaskContext[LibraryServices], keys: list[str]) -> None:
    """Delete the bytes of objects let go of, their renditions first, then their rows: until
    then the rows keep them their project's, so no other project can register one of them in
    between and serve it again. Idempotent: a run after a crash deletes what is left. An object
    whose row is live (taken up again before releases were kept) is left alone."""
    storage, db = ctx.services.storage, ctx.services.db
    async with db.read() as conn:
        live = set(
            (
                await conn.execute(
                    sa.select(assets.c.key).where(
                        assets.c.key.in_(keys), assets.c.released_at.is_(None)
                    )
                )
            ).scalars()
        )
    gone = [key for key in keys if key not in live]
    for key in gone:
        for variant in await storage.list_keys(variant_prefix(key)):
            await storage.delete(variant)
        await storage.delete(key)
    if gone:
        async with db.write() as conn:
            await conn.execute(
                assets.delete().where(assets.c.key.in_(gone), assets.c.released_at.is_not(None))
            )
    for key in sorted(live & set(keys)):
        log.info("object %s was registered again since it was released; kept", key)


# A boundary further ahead is looked at after this long, and the look deferred again: no
# runner is asked to keep a task for centuries (nor to add them to its clock).
LONGEST_WAIT = 366 * 24 * 3600.0
RESUMED_AT_ONCE = 1000  # entries read and their looks deferred in one transaction


def settle_validity(
    tx: Tx,
    project: Project,
    entry_ids: Collection[str],
    *,
    ran_for: dt.datetime | None = None,
) -> validity.Settled:
    """Settle the entries' validity after they were written (`validity.settle`), and defer a
    look at each window boundary ahead, at that moment: not a poll. The caller records the
    state events it returns beside its own."""
    settled = validity.settle(tx, project, entry_ids, ran_for=ran_for)
    for at, ids in settled.checks.items():
        _defer_look(tx, project.handle, ids, at, settled.now)
    return settled


def _defer_look(
    tx: Tx, project: str, entry_ids: list[str], at: dt.datetime, now: dt.datetime
) -> None:
    wait = min(LONGEST_WAIT, max(0.0, (at - now).total_seconds()))
    check_validity.defer(tx, delay=wait, project=project, entry_ids=entry_ids, at=at.isoformat())


async def resume_validity_checks(db: Database) -> int:
    """Defer again the look at the boundary each entry awaits (`validity_check_at`): a copy to
    another database (cli/copy.py) brings the rows, not the source's task queue. A look deferred
    twice is harmless. Returns how many entries await one."""
    awaiting = sa.select(
        media_entries.c.project, media_entries.c.id, media_entries.c.validity_check_at
    ).where(media_entries.c.validity_check_at.is_not(None))
    count = 0
    async with db.read() as conn:
        result = await conn.stream(awaiting.order_by(media_entries.c.project, media_entries.c.id))
        async for batch in result.partitions(RESUMED_AT_ONCE):
            looks: dict[tuple[str, dt.datetime], list[str]] = {}
            for project, entry_id, at in batch:
                looks.setdefault((project, at), []).append(entry_id)

            def defer(tx: Tx, looks: dict[tuple[str, dt.datetime], list[str]] = looks) -> None:
                now = utcnow()
                for (project, at), ids in looks.items():
                    _defer_look(tx, project, ids, at, now)

            await db.transact(defer)
            count += len(batch)
    return count


@TASKS.task("check_validity", max_attempts=10)
async def check_validity(
    ctx: TaskContext[LibraryServices], project: str, entry_ids: list[str], at: str
) -> None:
    """A validity window of these entries opens or closes at `at`: settle them again from their
    metadata and the clock, and tell the webhooks of each change, with no actor (the original
    sends none for these). Idempotent: an entry whose metadata changed since is as it is."""
    configured = ctx.services.projects.get(project)
    if configured is None:
        log.info("project %s is no longer configured: its validity checks end", project)
        return

    def work(tx: Tx) -> None:
        settled = settle_validity(tx, configured, entry_ids, ran_for=dt.datetime.fromisoformat(at))
        for event, ids in settled.events():
            record_entry_changes(tx, configured, [event], ids)

    await ctx.services.db.transact(work)


@check_validity.on_give_up
async def forget_the_check(
    ctx: TaskContext[LibraryServices], error: Exception, project: str, entry_ids: list[str], at: str
) -> None:
    """The look could not be taken: the entries await no boundary any more, so that the next
    write of each defers its look again."""
    async with ctx.services.db.write() as conn:
        await conn.execute(
            media_entries.update()
            .where(media_entries.c.project == project, media_entries.c.id.in_(entry_ids))
            .values(validity_check_at=None)
        )


SWEEP = "sweep_store"
# An upload URL lives an hour; its object is swept a day after that, not at once: a client
# that uploaded in time may register a little late.
SWEEP_GRACE = dt.timedelta(days=1)


def start_sweeps(tx: Tx, every: float) -> None:
    """Start the store's sweep, every `every` seconds, unless a chain of sweeps is going on
    (its next run is within a period ahead, or late by less than one): every process that
    works tasks calls this when it starts, and one chain goes on however many do. A chain
    started with a longer period gives way to this one."""
    tx.execute(
        insert_ignoring_conflicts(tx.conn, periodic_tasks),
        {"name": SWEEP, "due_at": dt.datetime(1970, 1, 1, tzinfo=dt.UTC)},
    )
    due_at = _next_sweep(tx)
    now = utcnow()
    period = dt.timedelta(seconds=every)
    if due_at is not None and now - period < due_at <= now + period:
        return
    _plan_sweep(tx, now + period, every)


def _next_sweep(tx: Tx) -> dt.datetime | None:
    query = sa.select(periodic_tasks.c.due_at).where(periodic_tasks.c.name == SWEEP)
    due_at: dt.datetime | None = tx.execute(
        query.with_for_update() if tx.is_postgres else query
    ).scalar()
    return due_at


def _plan_sweep(tx: Tx, due_at: dt.datetime, every: float) -> None:
    tx.execute(periodic_tasks.update().where(periodic_tasks.c.name == SWEEP).values(due_at=due_at))
    wait = max(0.0, (due_at - utcnow()).total_seconds())
    sweep_store.defer(tx, delay=wait, due=due_at.isoformat(), every=every)


@TASKS.task(SWEEP, max_attempts=1)
async def sweep_store(ctx: TaskContext[LibraryServices], due: str, every: float) -> None:
    """Defer the next sweep, then sweep; a run whose time the row no longer names (a newer
    chain took over) ends at once. A failed sweep is not retried: the next one comes."""

    def go_on(tx: Tx) -> bool:
        if _next_sweep(tx) != dt.datetime.fromisoformat(due):
            return False
        _plan_sweep(tx, utcnow() + dt.timedelta(seconds=every), every)
        return True

    if await ctx.services.db.transact(go_on):
        removed = await doctor.sweep(ctx.services.db, ctx.services.storage, grace=SWEEP_GRACE)
        if removed:
            log.info("the store's sweep removed %d object(s) nothing referenced", len(removed))
