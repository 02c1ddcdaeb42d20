"""The signed POST that tells an importer its job is done (Standard Webhooks).

One message per finished job, `webhook-id` `msg_<jobId>` on every attempt so receivers can drop
duplicates; retried on a fixed schedule, every attempt recorded; sent through the same address
guard as downloads, never following a redirect.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook

from medialib.db.engine import Tx
from medialib.db.tables import import_items, import_jobs, projects, utcnow, webhook_attempts
from medialib.db.upsert import insert_ignoring_conflicts
from medialib.fetch import FetchError
from medialib.imports.jobs import Progress, progress_of
from medialib.tasks.registry import TaskContext, task

log = logging.getLogger("medialib.webhooks")


def message_id(job_id: str) -> str:
    return f"msg_{job_id}"


def payload(job: Any, progress: Progress, failed: list[Any]) -> dict[str, Any]:
    return {
        "source": f"{job.kind}-import",
        "id": job.id,
        "state": job.state,
        "overview": {
            "total": progress.total,
            "success": progress.success,
            "skipped": progress.skipped,
            "failed": progress.failed,
            "details": {
                "failed": [{"externalId": i.external_id, "reason": i.reason} for i in failed]
            },
        },
        "context": job.context,
    }


def signed_headers(secret: str, job_id: str, body: str) -> dict[str, str]:
    now = utcnow()
    return {
        "Content-Type": "application/json",
        "webhook-id": message_id(job_id),
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id(job_id), now, body),
    }


@task("deliver_webhook", max_attempts=3)
async def deliver_webhook(ctx: TaskContext, job_id: str, attempt: int) -> None:
    db = ctx.runtime.db
    async with db.read() as conn:
        job = (await conn.execute(sa.select(import_jobs).where(import_jobs.c.id == job_id))).first()
        if job is None or job.webhook is None or job.webhook_state != "pending":
            return
        progress = await progress_of(conn, job_id, job.total)
        failed = (
            await conn.execute(
                sa.select(import_items.c.external_id, import_items.c.reason)
                .where(import_items.c.job_id == job_id, import_items.c.state == "failed")
                .order_by(import_items.c.position)
            )
        ).all()
        secret = await conn.scalar(
            sa.select(projects.c.webhook_secret).where(projects.c.handle == job.project)
        )
    body = orjson.dumps(payload(job, progress, list(failed))).decode()
    started = time.monotonic()
    status: int | None = None
    error: str | None = None
    try:
        status = await ctx.runtime.fetcher.post(
            job.webhook,
            body.encode(),
            signed_headers(str(secret), job_id, body),
            ctx.runtime.settings.webhook_timeout,
        )
    except FetchError as failure:
        error = failure.message
    delivered = status is not None and 200 <= status < 300
    if not delivered and error is None:
        error = f"HTTP {status}"
    await _record_attempt(ctx, job_id, attempt, status, error, time.monotonic() - started)


async def _record_attempt(
    ctx: TaskContext,
    job_id: str,
    attempt: int,
    status: int | None,
    error: str | None,
    seconds: float,
) -> None:
    delivered = error is None
    # Attempt 1 goes out at once; each delay is the wait before the next one.
    delays = ctx.runtime.settings.webhook_retry_delays
    last = attempt > len(delays)

    def record(tx: Tx) -> None:
        tx.execute(
            insert_ignoring_conflicts(tx.conn, webhook_attempts).values(
                job_id=job_id,
                attempt=attempt,
                at=utcnow(),
                status_code=status,
                error=error[:500] if error else None,
                duration_ms=int(seconds * 1000),
            )
        )
        tx.execute(
            import_jobs.update()
            .where(import_jobs.c.id == job_id)
            .values(
                webhook_attempts=attempt,
                webhook_status_code=status,
                webhook_state="delivered" if delivered else ("failed" if last else "pending"),
            )
        )
        if not delivered and not last:
            tx.defer(
                "deliver_webhook",
                {"job_id": job_id, "attempt": attempt + 1},
                delay=delays[attempt - 1],
            )

    await ctx.runtime.db.transact(record, ctx.runtime.queue)
    if not delivered:
        log.info("webhook of job %s, attempt %d: %s", job_id, attempt, error)
