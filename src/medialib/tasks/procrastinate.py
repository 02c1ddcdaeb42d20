"""Tasks on PostgreSQL: the procrastinate queue, in the same database as everything else.

Each task of the registry becomes a procrastinate task on one queue. Deferring writes the job on
the caller's own connection (procrastinate's `configure(connection=…)`), inside the transaction
that writes the rows it refers to; the insert trigger's NOTIFY reaches idle workers at commit.
Retries are procrastinate's, on the shared doubling schedule (RetryPolicy); a worker that dies stops
sending heartbeats, and a periodic task hands its jobs to the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import sqlalchemy as sa
from procrastinate import App, JobContext, PsycopgConnector
from procrastinate.jobs import Job
from procrastinate.retry import BaseRetryStrategy, RetryDecision
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from medialib.db.engine import Database, Deferral
from medialib.tasks.core import Registry, RetryPolicy, Task, TaskContext, TaskServices

log = logging.getLogger("medialib.tasks")

QUEUE = "medialib"
# procrastinate's own table, read for /metrics: jobs of our queue not yet done.
_PENDING = sa.text(
    "SELECT status::text, count(*) FROM procrastinate_jobs "
    "WHERE queue_name = :queue AND status IN ('todo', 'doing') GROUP BY status"
)
STALLED_CHECK = "* * * * * */10"  # every 10 seconds: the sixth field is the second
MIN_RESTART_PAUSE, MAX_RESTART_PAUSE = 0.5, 30.0
STABLE_RUN = 60.0  # a worker up this long has recovered: the next restart waits briefly again


def conninfo(database_url: str) -> str:
    """The libpq URL of a SQLAlchemy `postgresql+psycopg://` URL."""
    return "postgresql://" + database_url.split("://", 1)[1]


class ProcrastinateRunner:
    """procrastinate's queue and workers on the application's PostgreSQL database."""

    def __init__(
        self, database_url: str, registry: Registry, retry: RetryPolicy, *, stalled_after: float
    ) -> None:
        self.registry = registry
        self.retry = retry
        self.stalled_after = stalled_after
        self.queue = ProcrastinateQueue(database_url)

    def worker(self, services: TaskServices, *, concurrency: int) -> ProcrastinateWorker:
        """The worker of this process; its tasks run with `services` (one worker a process)."""
        app = self.queue.app
        for definition in self.registry:
            _register(app, definition, services, self.retry)
        _register_stalled_sweep(app, self.stalled_after)
        return ProcrastinateWorker(
            self.queue, concurrency=concurrency, stalled_after=self.stalled_after
        )

    async def pending(self, db: Database) -> dict[str, int]:
        async with db.read() as conn:
            rows = (await conn.execute(_PENDING, {"queue": QUEUE})).all()
        found: dict[str, int] = {state: count for state, count in rows}
        return {state: found.get(state, 0) for state in ("todo", "doing")}


class ProcrastinateQueue:
    """Defers through procrastinate on the caller's connection, by task name (procrastinate
    knows tasks by name without them being registered in the deferring process)."""

    def __init__(self, database_url: str) -> None:
        self.app = App(connector=PsycopgConnector(conninfo=conninfo(database_url)))

    def defer_sync(self, conn: Connection, deferrals: list[Deferral]) -> None:
        raise NotImplementedError("procrastinate defers on PostgreSQL's async connection")

    async def defer_async(self, conn: AsyncConnection, deferrals: list[Deferral]) -> None:
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        for deferral in deferrals:
            options: dict[str, Any] = {"connection": driver}
            if deferral.delay > 0:
                options["schedule_in"] = {"milliseconds": max(1, round(deferral.delay * 1000))}
            await self.app.configure_task(deferral.name, queue=QUEUE, **options).defer_async(
                **deferral.args
            )

    def committed(self, deferrals: list[Deferral]) -> None:
        """Nothing to do: PostgreSQL notifies the listening workers at commit."""


class DoublingRetry(BaseRetryStrategy):
    """The shared retry schedule (base, doubling, capped) for procrastinate."""

    def __init__(self, max_attempts: int, policy: RetryPolicy) -> None:
        self.max_attempts = max_attempts
        self.policy = policy

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        if job.attempts + 1 >= self.max_attempts:
            return None
        delay = self.policy.delay(job.attempts + 1)
        return RetryDecision(retry_in={"milliseconds": max(1, round(delay * 1000))})


def _register(app: App, definition: Task[Any], services: TaskServices, retry: RetryPolicy) -> None:
    async def run(context: JobContext, /, **args: Any) -> None:
        attempt = (context.job.attempts or 0) + 1
        await definition.execute(TaskContext(services, attempt), args)

    app.task(
        name=definition.name,
        queue=QUEUE,
        pass_context=True,
        retry=DoublingRetry(definition.max_attempts, retry),
    )(run)


def _register_stalled_sweep(app: App, stalled_after: float) -> None:
    async def retry_stalled_jobs(context: JobContext, timestamp: int) -> None:
        stalled = await app.job_manager.get_stalled_jobs(
            queue=QUEUE, seconds_since_heartbeat=stalled_after
        )
        for job in stalled:
            log.warning("job %s (%s) of a dead worker runs again", job.id, job.task_name)
            await app.job_manager.retry_job(job)

    task = app.task(
        name="medialib_retry_stalled_jobs",
        queue=QUEUE,
        pass_context=True,
    )(retry_stalled_jobs)
    app.periodic(cron=STALLED_CHECK)(task)


class ProcrastinateWorker:
    """A procrastinate worker inside this process, started and stopped like the local one."""

    def __init__(
        self, queue: ProcrastinateQueue, *, concurrency: int, stalled_after: float
    ) -> None:
        self.queue = queue
        self.concurrency = concurrency
        self.stalled_after = stalled_after
        self.id = "procrastinate"
        self._stack = contextlib.AsyncExitStack()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        await self._stack.enter_async_context(self.queue.app.open_async())
        options: dict[str, Any] = {
            "queues": [QUEUE],
            "concurrency": self.concurrency,
            "install_signal_handlers": False,
            "shutdown_graceful_timeout": 10,
            # New jobs arrive by NOTIFY; jobs scheduled for later (webhook retries) are found
            # by polling.
            "fetch_job_polling_interval": 1.0,
            "update_heartbeat_interval": max(1.0, self.stalled_after / 3),
            "stalled_worker_timeout": self.stalled_after,
            "delete_jobs": "successful",
        }
        self._task = asyncio.create_task(
            self._supervise(options), name="medialib-procrastinate-worker"
        )

    async def _supervise(self, options: dict[str, Any]) -> None:
        """Run the worker for as long as this one runs, whatever stops it.

        procrastinate's worker stops when the database goes away: with an error, or, when one
        of its side tasks (listener, heartbeat, periodic deferrer) lost its connection, quietly
        once its running jobs are done. Only `stop()` ends this loop; each restart waits
        longer, up to 30 s, until the worker stays up again.
        """
        pause = MIN_RESTART_PAUSE
        while True:
            started = time.monotonic()
            try:
                await self.queue.app.run_worker_async(**options)
                reason = "a database connection failed"
            except Exception as error:
                reason = repr(error)
            if self._stopping:  # a worker being stopped may end with an error, not a cancel
                return
            if time.monotonic() - started > STABLE_RUN:
                pause = MIN_RESTART_PAUSE
            log.warning("the task worker stopped (%s); starting it again in %.1f s", reason, pause)
            await asyncio.sleep(pause)
            pause = min(MAX_RESTART_PAUSE, pause * 2)

    async def stop(self, grace: float = 10.0) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._stack.aclose()
