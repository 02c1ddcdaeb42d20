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
    """Deleting is idempotent: a run after a crash deletes what is left. A key that an entry
    took up again since it was released (the synchronous import registering it anew) is kept."""
    storage = ctx.services.storage
    async with ctx.services.db.read() as conn:
        claimed = set(
            (await conn.execute(sa.select(assets.c.key).where(assets.c.key.in_(keys)))).scalars()
        )
    for key in keys:
        if key in claimed:
            log.info("object %s was registered again since it was released; kept", key)
            continue
        for variant in await storage.list_keys(variant_prefix(key)):
            await storage.delete(variant)
        await storage.delete(key)
