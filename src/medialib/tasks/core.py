"""The task framework: task definitions grouped in task sets, a registry the composition root
fills, the retry policy both runners follow, and the ports a runner implements.

It never imports the application (procrastinate's blueprints are the model): each package
declares its `TaskSet` and the services its tasks need as a Protocol, and `bootstrap.py`
registers the sets and hands every task the process's services. A task is deferred through its
definition, in the caller's transaction: `process_items.defer(tx, job_id=..., positions=...)`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from medialib import logs, metrics
from medialib.db.engine import Database, Deferrer, Tx

log = logging.getLogger("medialib.tasks")


class TaskServices(Protocol):
    """What every task can use: the database, whose transactions defer further tasks. A task
    set's own Protocol adds what its tasks need besides."""

    @property
    def db(self) -> Database: ...


S = TypeVar("S")
S_co = TypeVar("S_co", covariant=True)


@dataclass(frozen=True)
class TaskContext(Generic[S_co]):
    services: S_co
    attempt: int  # 1 for the first run


Run = Callable[..., Awaitable[None]]
GiveUp = Callable[..., Awaitable[None]]


class Task(Generic[S]):
    """A name, a coroutine, how often it may be tried, and what to do when it cannot succeed."""

    def __init__(self, name: str, run: Run, max_attempts: int) -> None:
        self.name = name
        self.run = run
        self.max_attempts = max_attempts
        self.give_up: GiveUp | None = None

    def defer(self, tx: Tx, *, delay: float = 0.0, **args: Any) -> None:
        """Queue a run with `args` (JSON values), committed with `tx` or not at all."""
        tx.defer(self.name, args, delay=delay)

    def on_give_up(self, give_up: GiveUp) -> GiveUp:
        """Decorate the coroutine called (with the context, the error and the task's arguments)
        after the last attempt failed."""
        self.give_up = give_up
        return give_up

    async def execute(self, ctx: TaskContext[S], args: dict[str, Any]) -> None:
        """Run the task; after its last attempt a failure is handed to `give_up`, not raised.
        Every line it logs names it."""
        with logs.bind(task=self.name):
            await self._execute(ctx, args)

    async def _execute(self, ctx: TaskContext[S], args: dict[str, Any]) -> None:
        if ctx.attempt > self.max_attempts:
            # Claimed again after the process died in every attempt: do not run it once more.
            await self._give_up(ctx, args, RuntimeError("the worker died while running it"))
            return
        try:
            await self.run(ctx, **args)
        except Exception as error:
            if ctx.attempt < self.max_attempts:
                metrics.TASK_RETRIES.labels(self.name).inc()
                raise
            await self._give_up(ctx, args, error)

    async def _give_up(self, ctx: TaskContext[S], args: dict[str, Any], error: Exception) -> None:
        log.error("task %s gave up after attempt %d: %r", self.name, ctx.attempt, error)
        if self.give_up is not None:
            await self.give_up(ctx, error, **args)


class TaskSet(Generic[S]):
    """One package's tasks, defined where they belong and registered by the composition root.
    `S` is the Protocol of the services those tasks use."""

    def __init__(self) -> None:
        self.tasks: dict[str, Task[S]] = {}

    def task(self, name: str, *, max_attempts: int = 5) -> Callable[[Run], Task[S]]:
        def define(run: Run) -> Task[S]:
            if name in self.tasks:
                raise ValueError(f"task {name!r} is defined twice")
            definition = self.tasks[name] = Task[S](name, run, max_attempts)
            return definition

        return define


class Registry:
    """Every task one process can run, from the task sets registered with it."""

    def __init__(self, *sets: TaskSet[Any]) -> None:
        self._tasks: dict[str, Task[Any]] = {}
        for task_set in sets:
            for name, definition in task_set.tasks.items():
                if name in self._tasks:
                    raise ValueError(f"two task sets define a task {name!r}")
                self._tasks[name] = definition

    def get(self, name: str) -> Task[Any] | None:
        return self._tasks.get(name)

    def __iter__(self) -> Iterator[Task[Any]]:
        return iter(self._tasks.values())


@dataclass(frozen=True)
class RetryPolicy:
    """Seconds before retrying a task that failed `attempts` times: `base`, doubling, capped."""

    base: float
    cap: float = 300.0

    def delay(self, attempts: int) -> float:
        return min(self.cap, self.base * 2.0 ** max(0, attempts - 1))


class Worker(Protocol):
    """Works tasks in this process until stopped."""

    @property
    def id(self) -> str: ...

    async def start(self) -> None: ...

    async def stop(self, grace: float = 10.0) -> None: ...


class Runner(Protocol):
    """A way to run tasks: its queue writes deferred tasks into transactions; its workers run
    them with a process's services. Chosen once per process, by the composition root."""

    @property
    def queue(self) -> Deferrer: ...

    def worker(self, services: TaskServices, *, concurrency: int) -> Worker: ...

    async def pending(self, db: Database) -> dict[str, int]:
        """Tasks not done yet, by state: `todo` (waiting, or scheduled for later) and `doing`."""
        ...
