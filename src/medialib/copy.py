"""Moving an installation: every row and every stored object from one (database, storage) to
another, typically from the embedded default (SQLite, a folder) to PostgreSQL and S3.

Rows are read in batches and written with INSERT … ON CONFLICT DO NOTHING, objects are streamed
and skipped when the target has them already: a copy can be stopped and run again. Jobs still
running are not copied (their tasks live in the source's queue); the copy says how many.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from medialib.db.engine import Tx
from medialib.db.tables import (
    api_tokens,
    assets,
    import_items,
    import_jobs,
    media_entries,
    projects,
    webhook_attempts,
)
from medialib.db.upsert import insert_ignoring_conflicts
from medialib.runtime import Runtime

BATCH = 1000
OBJECTS_AT_ONCE = 8


@dataclass
class CopyReport:
    rows: dict[str, int] = field(default_factory=dict)
    objects_copied: int = 0
    objects_present: int = 0
    objects_missing: list[str] = field(default_factory=list)
    jobs_left_running: int = 0


async def copy_installation(
    source: Runtime, target: Runtime, say: Callable[[str], None] = lambda _: None
) -> CopyReport:
    report = CopyReport()
    finished_jobs = sa.select(import_jobs.c.id).where(import_jobs.c.finished_at.is_not(None))
    plan: list[tuple[sa.Table, Any]] = [
        (projects, None),
        (api_tokens, None),
        (assets, None),
        (media_entries, None),
        (import_jobs, import_jobs.c.finished_at.is_not(None)),
        (import_items, import_items.c.job_id.in_(finished_jobs)),
        (webhook_attempts, webhook_attempts.c.job_id.in_(finished_jobs)),
    ]
    for table, condition in plan:
        report.rows[table.name] = await _copy_rows(source, target, table, condition)
        say(f"{table.name}: {report.rows[table.name]} rows")
    async with source.db.read() as conn:
        report.jobs_left_running = int(
            await conn.scalar(sa.select(sa.func.count()).where(import_jobs.c.finished_at.is_(None)))
            or 0
        )
    await _copy_objects(source, target, report, say)
    return report


async def _copy_rows(source: Runtime, target: Runtime, table: sa.Table, condition: Any) -> int:
    query = sa.select(table)
    if condition is not None:
        query = query.where(condition)
    copied = 0
    async with source.db.read() as conn:
        result = await conn.stream(query.order_by(*table.primary_key.columns))
        async for batch in result.mappings().partitions(BATCH):
            rows = [dict(row) for row in batch]

            def write(tx: Tx, rows: list[dict[str, Any]] = rows) -> None:
                tx.execute(insert_ignoring_conflicts(tx.conn, table), rows)

            await target.db.transact(write)
            copied += len(rows)
    return copied


async def _copy_objects(
    source: Runtime, target: Runtime, report: CopyReport, say: Callable[[str], None]
) -> None:
    gate = asyncio.Semaphore(OBJECTS_AT_ONCE)

    async def copy_one(key: str, mime_type: str) -> None:
        async with gate:
            if await target.storage.head(key) is not None:
                report.objects_present += 1
                return
            body = await source.storage.get(key)
            if body is None:
                report.objects_missing.append(key)
                return
            await target.storage.put(key, body.chunks, content_type=mime_type)
            report.objects_copied += 1

    async with source.db.read() as conn:
        result = await conn.stream(
            sa.select(assets.c.key, assets.c.mime_type).order_by(assets.c.key)
        )
        async for batch in result.partitions(BATCH):
            await asyncio.gather(*(copy_one(key, mime_type) for key, mime_type in batch))
            say(f"objects: {report.objects_copied} copied, {report.objects_present} already there")
