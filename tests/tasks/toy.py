"""A task set that is not medialib's, to test the task framework and the local runner on their
own (tasks/ never imports the application, so any application's tasks run the same way).

`python -m tests.tasks.toy <sqlite-url>` runs a worker of these tasks in a process of its own,
for the crash tests: it prints `started <n>` when a `hold` task starts, and never finishes one.
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from medialib.db.engine import Database
from medialib.tasks.core import Registry, RetryPolicy, TaskContext, TaskSet
from medialib.tasks.local import LocalRunner


@dataclass
class Toys:
    """The toy tasks' services: the database, and what the tasks did."""

    db: Database
    ran: list[tuple[str, int, dict[str, Any]]] = field(
        default_factory=list
    )  # (task, attempt, args)
    at: list[float] = field(default_factory=list)  # when each attempt of `flaky` started
    gave_up: list[tuple[str, str]] = field(default_factory=list)
    running: int = 0
    gate: asyncio.Event = field(default_factory=asyncio.Event)  # lets `hold` tasks finish
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    say: bool = False  # print `started <n>` (the child process)

    def note(self, task: str, attempt: int, args: dict[str, Any]) -> None:
        self.ran.append((task, attempt, args))
        self.changed.set()

    async def until(self, check: Any) -> None:
        """Wait for the tasks to reach a state (they announce every change)."""
        async with asyncio.timeout(30):
            while not check():
                self.changed.clear()
                await self.changed.wait()


TOYS = TaskSet[Toys]()


@TOYS.task("record")
async def record(ctx: TaskContext[Toys], n: int) -> None:
    ctx.services.note("record", ctx.attempt, {"n": n})


@TOYS.task("hold")
async def hold(ctx: TaskContext[Toys], n: int) -> None:
    toys = ctx.services
    toys.running += 1
    toys.changed.set()
    if toys.say:
        print(f"started {n}", flush=True)
    try:
        await toys.gate.wait()
    finally:
        toys.running -= 1
    toys.note("hold", ctx.attempt, {"n": n})


@TOYS.task("flaky", max_attempts=5)
async def flaky(ctx: TaskContext[Toys], fails: int) -> None:
    ctx.services.at.append(time.monotonic())
    ctx.services.changed.set()
    if ctx.attempt <= fails:
        raise RuntimeError(f"attempt {ctx.attempt} fails")
    ctx.services.note("flaky", ctx.attempt, {"fails": fails})


@TOYS.task("doomed", max_attempts=2)
async def doomed(ctx: TaskContext[Toys]) -> None:
    raise RuntimeError(f"attempt {ctx.attempt} fails")


@doomed.on_give_up
async def _gave_up(ctx: TaskContext[Toys], error: Exception) -> None:
    ctx.services.gave_up.append(("doomed", str(error)))
    ctx.services.changed.set()


def runner(retry_base: float = 0.05) -> LocalRunner:
    return LocalRunner(Registry(TOYS), RetryPolicy(retry_base))


async def _child(url: str) -> None:
    local = runner()
    toys = Toys(Database(url, queue=local.queue), say=True)
    worker = local.worker(toys, concurrency=1)
    await worker.start()
    print(f"worker {worker.id}", flush=True)
    await asyncio.Event().wait()  # until killed


if __name__ == "__main__":
    asyncio.run(_child(sys.argv[1]))
