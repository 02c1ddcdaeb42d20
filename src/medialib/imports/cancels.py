"""How a cancel reaches the downloads under way: each running chunk keeps a watch on its job.

A cancel is one transaction (`store.cancel`): the job is marked, its pending items fail with
reason code `cancelled`, and it finishes. The chunks already running in some worker process
learn of it from their watch, which reads the mark every `POLL` seconds (one small primary-key
read, the same on SQLite and PostgreSQL, whichever process cancelled) and, in the process that
cancelled, at once (`CancelSignals`). The watch then cancels the asyncio tasks of the chunk's
items: downloads under way close their connections, those waiting for a slot of their host stop
waiting, and the slots go to other jobs' downloads. The chunk then ends without an error, so
its task is never tried again for those items.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, TypeVar

from medialib.db.engine import Database
from medialib.imports import store

log = logging.getLogger("medialib.imports")

T = TypeVar("T")
POLL = 0.5  # seconds between two reads of a running chunk's job


class CancelSignals:
    """The chunks running in this process, by job: a cancel made here wakes their watches at
    once instead of at their next read. Safe to signal from any thread."""

    def __init__(self) -> None:
        self._waiting: dict[str, set[Callable[[], None]]] = {}

    def subscribe(self, job_id: str, wake: Callable[[], None]) -> Callable[[], None]:
        """Call `wake` (in the caller's event loop) when this process cancels the job; returns
        what unsubscribes."""
        loop = asyncio.get_running_loop()

        def threadsafe() -> None:
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits
                loop.call_soon_threadsafe(wake)

        self._waiting.setdefault(job_id, set()).add(threadsafe)

        def unsubscribe() -> None:
            waiting = self._waiting.get(job_id)
            if waiting is not None:
                waiting.discard(threadsafe)
                if not waiting:
                    self._waiting.pop(job_id, None)

        return unsubscribe

    def cancelled(self, job_id: str) -> None:
        for wake in list(self._waiting.get(job_id, ())):
            wake()


class ChunkWatch:
    """Runs a chunk's items as tasks of their own and cancels them all once the job is
    cancelled. Used as `async with ChunkWatch(...) as watch: await watch.run(work)`."""

    def __init__(
        self, db: Database, signals: CancelSignals, job_id: str, poll: float = POLL
    ) -> None:
        self.db = db
        self.signals = signals
        self.job_id = job_id
        self.poll = poll
        self.cancelled = False
        self._items: set[asyncio.Task[Any]] = set()
        self._wake = asyncio.Event()
        self._watching: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None

    async def __aenter__(self) -> ChunkWatch:
        self._unsubscribe = self.signals.subscribe(self.job_id, self._wake.set)
        self._watching = asyncio.create_task(self._watch(), name=f"watch-job-{self.job_id}")
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._watching is not None:
            self._watching.cancel()
            await asyncio.wait({self._watching})

    async def run(self, work: Coroutine[Any, Any, T]) -> T | None:
        """`work`'s result, or None when the job was cancelled before it ended (its item was
        failed by the cancel already). Its errors are raised; a cancel of the caller cancels
        `work` too."""
        task = asyncio.create_task(work)
        self._items.add(task)
        if self.cancelled:
            task.cancel()
        try:
            await asyncio.wait({task})
        except asyncio.CancelledError:
            task.cancel()
            await asyncio.wait({task})
            raise
        finally:
            self._items.discard(task)
        if task.cancelled():
            return None
        return task.result()

    async def _watch(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll)
            try:
                async with self.db.read() as conn:
                    stop = await store.is_cancelled(conn, self.job_id)
            except Exception as error:  # the database is away: the next read may succeed
                log.warning("cannot read whether job %s was cancelled: %r", self.job_id, error)
                continue
            if stop:
                self._cancel_items()
                return

    def _cancel_items(self) -> None:
        """All at once, in one step of the loop: no download of the chunk gets a slot of its
        host that another one of them just gave back."""
        log.info("job %s was cancelled: stopping %d item(s)", self.job_id, len(self._items))
        self.cancelled = True
        for task in self._items:
            task.cancel()
