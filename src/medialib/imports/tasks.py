"""The imports package's task set: work a chunk of a job's items, and finish a job whose items
are all done (its webhook goes into the outbox then)."""

from __future__ import annotations

import logging

from medialib import logs
from medialib.db.engine import Tx
from medialib.imports import store
from medialib.imports.pipeline import ImportServices, import_chunk
from medialib.media.storage import StorageError
from medialib.tasks.core import TaskContext, TaskSet

TASKS = TaskSet[ImportServices]()
log = logging.getLogger("medialib.imports")


@TASKS.task("process_items", max_attempts=5)
async def process_items(
    ctx: TaskContext[ImportServices], job_id: str, positions: list[int]
) -> None:
    with logs.bind(job_id=job_id):
        await import_chunk(
            ctx.services, job_id, positions, lambda tx: finish_job.defer(tx, job_id=job_id)
        )


@process_items.on_give_up
async def fail_remaining(
    ctx: TaskContext[ImportServices], error: Exception, job_id: str, positions: list[int]
) -> None:
    """After the last attempt, the chunk's unfinished items fail, so the job still finishes."""
    code = "storage_error" if isinstance(error, StorageError) else "internal_error"
    reason = "The item could not be processed; try importing it again."

    def fail(tx: Tx) -> None:
        if store.lock_job(tx, job_id) is None:
            return
        if store.fail_pending(tx, job_id, positions, code, reason):
            finish_job.defer(tx, job_id=job_id)

    with logs.bind(job_id=job_id):
        log.error("a chunk of %d item(s) gave up; the unfinished fail: %s", len(positions), code)
        await ctx.services.db.transact(fail)


@TASKS.task("finish_job", max_attempts=10)
async def finish_job(ctx: TaskContext[ImportServices], job_id: str) -> None:
    hold = ctx.services.settings.job_webhook_hold
    finished = await ctx.services.db.transact(lambda tx: store.finish(tx, job_id, hold))
    if finished is not None:
        job, progress = finished.job, finished.progress
        log.info(
            "job finished: %s (%d/%d failed)",
            finished.state,
            progress.failed,
            progress.total,
            extra={
                "job_id": job.id,
                "project": job.project,
                "kind": job.kind,
                "state": str(finished.state),
                "total": progress.total,
                "success": progress.success,
                "skipped": progress.skipped,
                "failed": progress.failed,
            },
        )
