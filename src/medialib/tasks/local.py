"""The embedded task runner of the one-machine setup (SQLite; PostgreSQL deployments use
procrastinate): tasks are rows in the `tasks` table, claimed by workers (asyncio in
`medialib serve` and `medialib worker` processes) and marked with the claiming worker's id.

A task survives the death of its worker: every worker holds a lock file named by its id for as
long as it lives; the kernel drops the lock when the process dies, however it dies, so any
worker can tell a dead worker's tasks at once and hands them back.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import enum
import fcntl
import logging
import os
import random
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from medialib.db.engine import Database, Deferral
from medialib.db.tables import tasks, utcnow
from medialib.tasks.core import Registry, RetryPolicy, TaskContext, TaskServices

log = logging.getLogger("medialib.tasks")

MAX_PAUSE = 30.0


class TaskState(enum.StrEnum):
    TODO = "todo"  # waiting for its run_at
    DOING = "doing"  # claimed by the worker in `owner`


class LocalRunner:
    """Tasks in the database's own `tasks` table, worked by this process and its siblings."""

    def __init__(self, registry: Registry, retry: RetryPolicy) -> None:
        self.registry = registry
        self.retry = retry
        self.queue = LocalQueue()

    def worker(self, services: TaskServices, *, concurrency: int) -> LocalWorker:
        return LocalWorker(services, self.queue, self.registry, self.retry, concurrency=concurrency)

    async def pending(self, db: Database) -> dict[str, int]:
        query = sa.select(tasks.c.state, sa.func.count()).group_by(tasks.c.state)
        async with db.read() as conn:
            found: dict[str, int] = {
                state: count for state, count in (await conn.execute(query)).all()
            }
        return {state: found.get(state, 0) for state in TaskState}


class LocalQueue:
    """Defers into the `tasks` table, inside the caller's transaction."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []

    def listen(self, wake: Callable[[], None]) -> None:
        self._listeners.append(wake)

    def defer_sync(self, conn: Connection, deferrals: list[Deferral]) -> None:
        conn.execute(tasks.insert(), _rows(deferrals))

    async def defer_async(self, conn: AsyncConnection, deferrals: list[Deferral]) -> None:
        await conn.execute(tasks.insert(), _rows(deferrals))

    def committed(self, deferrals: list[Deferral]) -> None:
        if any(d.delay == 0 for d in deferrals):
            for wake in self._listeners:
                wake()


def _rows(deferrals: list[Deferral]) -> list[dict[str, Any]]:
    now = utcnow()
    return [
        {
            "name": d.name,
            "args": d.args,
            "state": TaskState.TODO,
            "run_at": now + dt.timedelta(seconds=d.delay),
            "attempts": 0,
            "created_at": now,
        }
        for d in deferrals
    ]


class RunnerLocks:
    """One lock file per living runner, in a folder beside the SQLite database."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._held: int | None = None
        self._path: Path | None = None

    def hold(self, runner_id: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._path = self.folder / f"{runner_id}.lock"
        self._held = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._held, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def alive(self, runner_id: str) -> bool:
        path = self.folder / f"{runner_id}.lock"
        try:
            descriptor = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(descriptor)
        path.unlink(missing_ok=True)  # a dead runner's file
        return False

    def release(self) -> None:
        if self._held is not None:
            if self._path is not None:
                self._path.unlink(missing_ok=True)
            os.close(self._held)
            self._held = None


def locks_folder(database_url: str) -> Path:
    """Where the workers of one SQLite database keep their lock files: beside it."""
    return Path(database_url.split("///", 1)[-1] + ".runners")


class LocalWorker:
    def __init__(
        self,
        services: TaskServices,
        queue: LocalQueue,
        registry: Registry,
        retry: RetryPolicy,
        *,
        concurrency: int,
        poll: float = 0.2,
        recovery_interval: float = 5.0,
    ) -> None:
        self.services = services
        self.db: Database = services.db
        self.queue = queue
        self.registry = registry
        self.retry = retry
        self.concurrency = concurrency
        self.poll = poll
        self.recovery_interval = recovery_interval
        self.id = secrets.token_hex(8)
        self._running: dict[int, asyncio.Task[None]] = {}
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._background: list[asyncio.Task[None]] = []
        self._locks = RunnerLocks(locks_folder(self.db.url))

    async def start(self) -> None:
        self.queue.listen(self._wakeup.set)
        self._locks.hold(self.id)
        await self._requeue_from_dead_runners()
        self._background.append(asyncio.create_task(self._recover_periodically()))
        self._background.append(
            asyncio.create_task(self._loop(), name=f"medialib-runner-{self.id}")
        )

    async def stop(self, grace: float = 10.0) -> None:
        """Stop claiming; give running tasks `grace` seconds, then hand the rest back."""
        self._stopping = True
        self._wakeup.set()
        loop_task, *others = reversed(self._background)
        for other in others:
            other.cancel()
        await asyncio.gather(loop_task, *others, return_exceptions=True)
        if self._running:
            _, pending = await asyncio.wait(list(self._running.values()), timeout=grace)
            for running in pending:
                running.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        self._locks.release()

    async def _recover_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.recovery_interval)
            try:
                await self._requeue_from_dead_runners()
            except Exception:
                log.exception("could not look for the tasks of dead runners")

    async def _requeue_from_dead_runners(self) -> None:
        """Tasks claimed by a runner whose process is gone go back to the queue."""
        async with self.db.read() as conn:
            owners = (
                await conn.execute(
                    sa.select(tasks.c.owner)
                    .where(tasks.c.state == TaskState.DOING, tasks.c.owner != self.id)
                    .distinct()
                )
            ).scalars()
            dead = [owner for owner in owners if owner and not self._locks.alive(owner)]
        if not dead:
            return
        requeued = await self._write(
            tasks.update()
            .where(tasks.c.state == TaskState.DOING, tasks.c.owner.in_(dead))
            .values(state=TaskState.TODO, owner=None)
        )
        log.warning("running again %d task(s) of %d stopped runner(s)", requeued, len(dead))
        self._wakeup.set()

    async def _loop(self) -> None:
        pause = 0.0
        while not self._stopping:
            self._wakeup.clear()
            try:
                wait = await self._claim_and_spawn()
                pause = 0.0
            except Exception as error:
                # The database is away (a restart, a network cut): keep trying, more slowly.
                pause = min(MAX_PAUSE, pause * 2 or 0.5)
                log.warning("cannot claim tasks (%r); trying again in %.1f s", error, pause)
                wait = pause
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), timeout=wait)

    async def _claim_and_spawn(self) -> float:
        """Claim what there is room for; how long to wait before looking again."""
        free = self.concurrency - len(self._running)
        claimed = await self._claim(free) if free > 0 else []
        for row in claimed:
            self._spawn(row)
        if claimed and len(claimed) == free:
            return 0.0
        return self.poll if free <= len(claimed) else await self._seconds_to_next_task()

    async def _claim(self, limit: int) -> list[Any]:
        now = utcnow()
        ready = sa.and_(tasks.c.state == TaskState.TODO, tasks.c.run_at <= now)
        due = sa.select(tasks.c.id).where(ready).order_by(tasks.c.run_at, tasks.c.id).limit(limit)
        claim = (
            tasks.update()
            .where(tasks.c.id.in_(due.scalar_subquery()))
            .values(
                state=TaskState.DOING,
                owner=self.id,
                attempts=tasks.c.attempts + 1,
            )
            .returning(tasks.c.id, tasks.c.name, tasks.c.args, tasks.c.attempts)
        )
        rows = await self.db.transact(lambda tx: tx.execute(claim).all())
        return sorted(rows, key=lambda row: row.id)

    async def _seconds_to_next_task(self) -> float:
        async with self.db.read() as conn:
            next_at = await conn.scalar(
                sa.select(sa.func.min(tasks.c.run_at)).where(tasks.c.state == TaskState.TODO)
            )
        if isinstance(next_at, str):  # SQLite's min() skips the column type
            next_at = dt.datetime.fromisoformat(next_at).replace(tzinfo=dt.UTC)
        if next_at is None:
            return self.poll
        due_in: float = (next_at - utcnow()).total_seconds()
        return max(0.0, min(self.poll, due_in))

    def _spawn(self, row: Any) -> None:
        running = asyncio.create_task(self._run(row), name=f"task-{row.name}-{row.id}")
        self._running[row.id] = running

        def done(_: asyncio.Task[None]) -> None:
            self._running.pop(row.id, None)
            self._wakeup.set()

        running.add_done_callback(done)

    async def _run(self, row: Any) -> None:
        definition = self.registry.get(row.name)
        if definition is None:
            log.error("dropping task %s: no task is called %r", row.id, row.name)
            await self._delete(row.id)
            return
        try:
            await definition.execute(TaskContext(self.services, row.attempts), row.args)
        except asyncio.CancelledError:
            await asyncio.shield(self._release(row.id))
            raise
        except Exception as error:
            log.warning("task %s %s attempt %d failed: %r", row.name, row.id, row.attempts, error)
            await self._retry_later(row)
        else:
            await self._delete(row.id)

    async def _write(self, statement: Any) -> int:
        """One statement in its own write transaction; the number of rows it changed."""
        return await self.db.transact(lambda tx: tx.execute(statement).rowcount)

    async def _settle(self, statement: Any) -> None:
        """A write that records how a task ended must not be lost to a database that is away
        for a while: without it the task would stay claimed by a runner that is alive."""
        pause = 0.5
        while True:
            try:
                await self._write(statement)
                return
            except Exception as error:
                log.warning("cannot record a task's end (%r); again in %.1f s", error, pause)
                await asyncio.sleep(pause)
                pause = min(MAX_PAUSE, pause * 2)

    async def _delete(self, task_id: int) -> None:
        await self._settle(tasks.delete().where(tasks.c.id == task_id))

    async def _release(self, task_id: int) -> None:
        """A task interrupted by a shutdown goes back as it was, its attempt not counted."""
        await self._write(
            tasks.update()
            .where(tasks.c.id == task_id)
            .values(state=TaskState.TODO, owner=None, attempts=tasks.c.attempts - 1)
        )

    async def _retry_later(self, row: Any) -> None:
        delay = self.retry.delay(row.attempts) * random.uniform(0.75, 1.25)  # noqa: S311
        await self._settle(
            tasks.update()
            .where(tasks.c.id == row.id)
            .values(
                state=TaskState.TODO,
                owner=None,
                run_at=utcnow() + dt.timedelta(seconds=delay),
            )
        )
