"""A task is deferred in the transaction that writes its rows: both commit, or neither does.
On SQLite the task is a row of `tasks`; on PostgreSQL a procrastinate job."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from medialib.db.engine import Tx
from medialib.db.tables import projects, tasks, utcnow
from medialib.imports.tasks import finish_job
from tests.support.stack import Stack


async def _queued(stack: Stack, name: str) -> int:
    async with stack.runtime.db.read() as conn:
        if stack.runtime.db.is_sqlite:
            query = sa.select(sa.func.count()).select_from(tasks).where(tasks.c.name == name)
            return int(await conn.scalar(query) or 0)
        found = await conn.scalar(
            sa.text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = :name"),
            {"name": name},
        )
        return int(found or 0)


async def _project_exists(stack: Stack, handle: str) -> bool:
    async with stack.runtime.db.read() as conn:
        found = await conn.scalar(sa.select(projects.c.handle).where(projects.c.handle == handle))
    return found is not None


def _write_and_defer(handle: str, fail: bool) -> Callable[[Tx], None]:
    def work(tx: Tx) -> None:
        tx.execute(
            projects.insert().values(handle=handle, webhook_secret="x" * 30, created_at=utcnow())
        )
        # A task that exists but is never run here: its job row is all the test looks at.
        finish_job.defer(tx, delay=3600, job_id=f"no-such-job-{handle}")
        if fail:
            raise RuntimeError("something after the defer went wrong")

    return work


async def test_a_rolled_back_transaction_queues_nothing(make_stack) -> None:
    stack = await make_stack()
    before = await _queued(stack, finish_job.name)

    with pytest.raises(RuntimeError):
        await stack.runtime.db.transact(_write_and_defer("rolled-back", fail=True))

    assert not await _project_exists(stack, "rolled-back")
    assert await _queued(stack, finish_job.name) == before


async def test_a_committed_transaction_queues_its_task(make_stack) -> None:
    stack = await make_stack()
    before = await _queued(stack, finish_job.name)

    await stack.runtime.db.transact(_write_and_defer("committed", fail=False))

    assert await _project_exists(stack, "committed")
    assert await _queued(stack, finish_job.name) == before + 1
