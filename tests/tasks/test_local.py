"""The local task runner on its own, with a task set that is not medialib's (tests/tasks/toy.py):
claiming, the retry schedule, giving up, shutdown, the lock files that tell a living worker from
a dead one, and a dead worker's tasks running again."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from medialib.db.engine import Database, Tx
from medialib.db.migrate import migrate
from medialib.db.tables import tasks, utcnow
from medialib.tasks.core import Task
from medialib.tasks.local import LocalRunner, LocalWorker, RunnerLocks, TaskState, locks_folder
from tests.tasks.toy import Toys, doomed, flaky, hold, record, runner

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def url(tmp_path: Path) -> str:
    """A SQLite database with medialib's schema (the `tasks` table is the queue)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'tasks.db'}"
    db = Database(url)
    await migrate(db)
    await db.close()
    return url


class Setup:
    def __init__(self, url: str, retry_base: float = 0.05) -> None:
        self.runner: LocalRunner = runner(retry_base)
        self.toys = Toys(Database(url, queue=self.runner.queue))
        self.workers: list[LocalWorker] = []

    async def defer(self, task: Task[Toys], *arguments: dict[str, Any]) -> None:
        def write(tx: Tx) -> None:
            for args in arguments:
                task.defer(tx, **args)

        await self.toys.db.transact(write)

    async def worker(self, concurrency: int = 4) -> LocalWorker:
        worker = self.runner.worker(self.toys, concurrency=concurrency)
        await worker.start()
        self.workers.append(worker)
        return worker

    async def rows(self) -> list[tuple[str, str, int, str | None]]:
        async with self.toys.db.read() as conn:
            found = await conn.execute(
                sa.select(tasks.c.name, tasks.c.state, tasks.c.attempts, tasks.c.owner).order_by(
                    tasks.c.id
                )
            )
            return [(row.name, row.state, row.attempts, row.owner) for row in found.all()]

    async def close(self) -> None:
        self.toys.gate.set()
        for worker in self.workers:
            await worker.stop()
        await self.toys.db.close()


@pytest.fixture
async def setup(url: str) -> AsyncIterator[Setup]:
    made = Setup(url)
    yield made
    await made.close()


async def test_deferred_tasks_run_once_each_and_leave_the_queue(setup: Setup) -> None:
    await setup.defer(record, *({"n": n} for n in range(5)))

    worker = await setup.worker(concurrency=2)
    await setup.toys.until(lambda: len(setup.toys.ran) == 5)
    await worker.stop()

    assert sorted(args["n"] for _, _, args in setup.toys.ran) == [0, 1, 2, 3, 4]
    assert {attempt for _, attempt, _ in setup.toys.ran} == {1}
    assert await setup.rows() == []


async def test_a_worker_claims_no_more_than_its_concurrency(setup: Setup) -> None:
    await setup.defer(hold, *({"n": n} for n in range(4)))

    worker = await setup.worker(concurrency=2)
    await setup.toys.until(lambda: setup.toys.running == 2)
    claimed = await setup.rows()
    setup.toys.gate.set()
    await setup.toys.until(lambda: len(setup.toys.ran) == 4)

    states = sorted((state, owner) for _, state, _, owner in claimed)
    assert states == [("doing", worker.id)] * 2 + [("todo", None)] * 2


async def test_a_failing_task_is_retried_after_a_doubling_delay(url: str) -> None:
    setup = Setup(url, retry_base=0.2)
    await setup.defer(flaky, {"fails": 2})

    await setup.worker()
    await setup.toys.until(lambda: bool(setup.toys.ran))
    await setup.close()

    assert setup.toys.ran == [("flaky", 3, {"fails": 2})]
    first, second, third = setup.toys.at
    # base, then twice the base; each with up to a quarter of jitter either way
    assert second - first >= 0.2 * 0.75
    assert third - second >= 0.4 * 0.75


async def test_after_its_last_attempt_a_task_gives_up_and_leaves(setup: Setup) -> None:
    await setup.defer(doomed, {})

    worker = await setup.worker()
    await setup.toys.until(lambda: bool(setup.toys.gave_up))
    await worker.stop()

    assert setup.toys.gave_up == [("doomed", "attempt 2 fails")]
    assert await setup.rows() == []


async def test_a_task_nobody_defines_is_dropped(setup: Setup) -> None:
    now = utcnow()
    await setup.toys.db.transact(
        lambda tx: tx.execute(
            tasks.insert().values(
                name="gone_since", args={}, state=TaskState.TODO, run_at=now, attempts=0,
                created_at=now,
            )
        )
    )  # fmt: skip
    await setup.defer(record, {"n": 1})

    worker = await setup.worker(concurrency=1)
    await setup.toys.until(lambda: bool(setup.toys.ran))
    await worker.stop()

    assert await setup.rows() == []


async def test_stopping_hands_a_running_task_back_without_counting_the_attempt(
    setup: Setup,
) -> None:
    await setup.defer(hold, {"n": 1})
    worker = await setup.worker()
    await setup.toys.until(lambda: setup.toys.running == 1)

    await worker.stop(grace=0.05)

    assert await setup.rows() == [("hold", "todo", 0, None)]
    assert setup.toys.ran == []


# --- Lock files and dead workers ----------------------------------------------------------


class Child:
    """A process of its own running a worker of the toy tasks."""

    def __init__(self, url: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.tasks.toy", url],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        self.id = self.line().removeprefix("worker ")

    def line(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture
def children() -> Iterator[list[Child]]:
    made: list[Child] = []
    yield made
    for child in made:
        if child.process.poll() is None:
            child.kill()


async def test_a_lock_file_tells_a_living_worker_from_a_dead_one(
    url: str, children: list[Child]
) -> None:
    child = Child(url)
    children.append(child)
    locks = RunnerLocks(locks_folder(url))
    lock_file = locks.folder / f"{child.id}.lock"

    alive_before = locks.alive(child.id)
    child.kill()
    alive_after = locks.alive(child.id)

    assert alive_before
    assert not alive_after
    assert not lock_file.exists()  # a dead worker's file is cleared away
    assert not locks.alive("never-was")


async def test_a_killed_workers_task_runs_again_and_a_living_ones_does_not(
    setup: Setup, url: str, children: list[Child]
) -> None:
    await setup.defer(hold, {"n": 1})
    doomed_child = Child(url)
    children.append(doomed_child)
    assert await asyncio.to_thread(doomed_child.line) == "started 1"
    await setup.defer(hold, {"n": 2})
    living = Child(url)
    children.append(living)
    assert await asyncio.to_thread(living.line) == "started 2"

    doomed_child.kill()
    setup.toys.gate.set()
    worker = await setup.worker()
    await setup.toys.until(lambda: bool(setup.toys.ran))
    await worker.stop()

    assert setup.toys.ran == [("hold", 2, {"n": 1})]  # its second attempt, here
    rows = await setup.rows()
    assert rows == [("hold", "doing", 1, living.id)]  # still the living worker's
