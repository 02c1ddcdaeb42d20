"""The library package's task set: delete stored objects no entry points at any more (and their
renditions), after the transaction that let go of them is committed."""

from __future__ import annotations

import logging
from typing import Protocol

import sqlalchemy as sa

from medialib.db.tables import assets
from medialib.library.assets import variant_prefix
from medialib.media.storage import Storage
from medialib.tasks.core import TaskContext, TaskServices, TaskSet

log = logging.getLogger("medialib.library")


class LibraryServices(TaskServices, Protocol):
    @property
    def storage(self) -> Storage: ...


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
