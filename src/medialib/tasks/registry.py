"""Task definitions: a name, a coroutine, how often it may be tried, and what to do when it
cannot succeed. Business code defines tasks here and never learns which runner runs them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.ext.asyncio import AsyncConnection

    from medialib.db.engine import Deferral
    from medialib.runtime import Runtime


class TaskQueue(Protocol):
    """The port every runner implements: write deferred tasks into the caller's open
    transaction (`Database.transact` calls these), and learn when they are committed."""

    def defer_sync(self, conn: Connection, deferrals: list[Deferral]) -> None: ...

    async def defer_async(self, conn: AsyncConnection, deferrals: list[Deferral]) -> None: ...

    def committed(self, deferrals: list[Deferral]) -> None: ...


@dataclass(frozen=True)
class TaskContext:
    runtime: Runtime
    attempt: int


Run = Callable[..., Awaitable[None]]
GiveUp = Callable[..., Awaitable[None]]


@dataclass
class TaskDefinition:
    name: str
    run: Run
    max_attempts: int
    give_up: GiveUp | None = None

    def on_give_up(self, give_up: GiveUp) -> GiveUp:
        """Decorate the coroutine called (with the task's arguments) after the last attempt."""
        self.give_up = give_up
        return give_up

    async def execute(self, ctx: TaskContext, args: dict[str, Any]) -> None:
        """Run the task; after its last attempt a failure is handed to `give_up`, not raised."""
        if ctx.attempt > self.max_attempts:
            # Claimed again after the process died in every attempt: do not run it once more.
            await self._give_up(ctx, args, RuntimeError("the worker died while running it"))
            return
        try:
            await self.run(ctx, **args)
        except Exception as error:
            if ctx.attempt < self.max_attempts:
                raise
            await self._give_up(ctx, args, error)

    async def _give_up(self, ctx: TaskContext, args: dict[str, Any], error: Exception) -> None:
        if self.give_up is not None:
            await self.give_up(ctx, error, **args)


TASKS: dict[str, TaskDefinition] = {}


def task(name: str, *, max_attempts: int = 5) -> Callable[[Run], TaskDefinition]:
    def register(run: Run) -> TaskDefinition:
        if name in TASKS:
            raise RuntimeError(f"task {name!r} is defined twice")
        definition = TASKS[name] = TaskDefinition(name, run, max_attempts)
        return definition

    return register


def load_tasks() -> dict[str, TaskDefinition]:
    """Every task, with the modules that define them imported."""
    import medialib.imports.pipeline
    import medialib.webhooks  # noqa: F401

    return TASKS
