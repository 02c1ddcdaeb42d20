"""Moving an installation: every row and every stored object from one (database, storage) to
another, typically from the embedded default (SQLite, a folder) to PostgreSQL and S3.

Rows are read in batches and written with INSERT … ON CONFLICT DO NOTHING, objects are streamed
and skipped when the target has them already: a copy can be stopped and run again. Jobs still
running and outbox events still being delivered are not copied (their tasks live in the source's
queue); the copy says how many.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click
import sqlalchemy as sa

from medialib.bootstrap import Runtime
from medialib.cli.common import fail_cleanly, with_runtime
from medialib.db.engine import Tx
from medialib.db.migrate import migrate
from medialib.db.outbox import DeliveryState
from medialib.db.search_index import index_new_entries
from medialib.db.tables import (
    api_tokens,
    assets,
    deliveries,
    delivery_attempts,
    entry_keys,
    events,
    import_items,
    import_jobs,
    media_entries,
    media_references,
    perceptual_hashes,
    projects,
    usage_log_entries,
)
from medialib.db.upsert import insert_ignoring_conflicts
from medialib.library.tasks import resume_validity_checks
from medialib.settings import Settings

BATCH = 1000
OBJECTS_AT_ONCE = 8


@dataclass
class CopyReport:
    rows: dict[str, int] = field(default_factory=dict)
    objects_copied: int = 0
    objects_present: int = 0
    objects_missing: list[str] = field(default_factory=list)
    jobs_left_running: int = 0
    events_left_pending: int = 0
    validity_looks: int = 0  # entries awaiting a validity window's boundary


async def copy_installation(
    source: Runtime, target: Runtime, say: Callable[[str], None] = lambda _: None
) -> CopyReport:
    report = CopyReport()
    finished_jobs = sa.select(import_jobs.c.id).where(import_jobs.c.finished_at.is_not(None))
    pending = sa.select(deliveries.c.event_id).where(deliveries.c.state == DeliveryState.PENDING)
    settled = events.c.id.not_in(pending)
    settled_deliveries = sa.select(deliveries.c.id).where(deliveries.c.event_id.not_in(pending))
    plan: list[tuple[sa.Table, Any]] = [
        (projects, None),
        (api_tokens, None),
        (assets, assets.c.released_at.is_(None)),  # not what is being deleted
        (media_entries, None),
        (entry_keys, None),  # every key an entry has had: what its revocation takes down
        (media_references, None),  # the entries each entry's metadata names
        (usage_log_entries, None),  # where entries are used, as callers reported it
        (perceptual_hashes, None),  # the near-duplicate index of the analysed pictures
        (import_jobs, import_jobs.c.finished_at.is_not(None)),
        (import_items, import_items.c.job_id.in_(finished_jobs)),
        (events, settled),
        (deliveries, deliveries.c.event_id.not_in(pending)),
        (delivery_attempts, delivery_attempts.c.delivery_id.in_(settled_deliveries)),
    ]
    for table, condition in plan:
        report.rows[table.name] = await _copy_rows(source, target, table, condition)
        say(f"{table.name}: {report.rows[table.name]} rows")
    await target.db.transact(_continue_event_ids)
    # The looks at validity windows' boundaries are tasks of the source's queue: deferred again.
    report.validity_looks = await resume_validity_checks(target.db)
    async with source.db.read() as conn:
        report.jobs_left_running = int(
            await conn.scalar(sa.select(sa.func.count()).where(import_jobs.c.finished_at.is_(None)))
            or 0
        )
        report.events_left_pending = int(
            await conn.scalar(sa.select(sa.func.count()).where(events.c.id.in_(pending))) or 0
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
                if table is media_entries:
                    index_new_entries(tx)

            await target.db.transact(write)
            copied += len(rows)
    return copied


def _continue_event_ids(tx: Tx) -> None:
    """Copied rows bring their ids: PostgreSQL's sequence must go on after the highest."""
    if tx.is_postgres:
        tx.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('events', 'id'), "
                "(SELECT coalesce(max(id), 0) + 1 FROM events), false)"
            )
        )


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
            sa.select(assets.c.key, assets.c.mime_type)
            .where(assets.c.released_at.is_(None))
            .order_by(assets.c.key)
        )
        async for batch in result.partitions(BATCH):
            await asyncio.gather(*(copy_one(key, mime_type) for key, mime_type in batch))
            say(f"objects: {report.objects_copied} copied, {report.objects_present} already there")


@click.command(name="copy")
@click.option("--to-database-url", required=True, help="e.g. postgresql://user:pass@host/db")
@click.option("--to-storage-url", required=True, help="e.g. s3://bucket/prefix")
@click.option("--to-s3-endpoint", default=None, help="An S3-compatible server's URL.")
@fail_cleanly
def copy_command(to_database_url: str, to_storage_url: str, to_s3_endpoint: str | None) -> None:
    """Copy every entry, asset, token and finished job to another database and storage."""
    source_settings = Settings()
    target_settings = Settings(
        database_url=to_database_url,
        storage_url=to_storage_url,
        s3_endpoint=to_s3_endpoint,
        config=source_settings.config_path,
    )

    async def work(source: Runtime) -> None:
        target = Runtime.from_settings(target_settings)
        try:
            # The source's projects (and their webhook secrets) come over with the rows.
            await migrate(target.db)
            report = await copy_installation(
                source, target, lambda line: click.echo(f"medialib: {line}", err=True)
            )
        finally:
            await target.close()
        click.echo(
            f"medialib: copied {sum(report.rows.values())} rows, {report.objects_copied} objects "
            f"({report.objects_present} were there already)",
            err=True,
        )
        if report.validity_looks:
            awaiting = report.validity_looks
            click.echo(
                f"medialib: {awaiting} {'entry awaits' if awaiting == 1 else 'entries await'} "
                "a validity window's start or end: the copy looks again then",
                err=True,
            )
        if report.objects_missing:
            click.echo(
                f"medialib: {len(report.objects_missing)} asset(s) have no object in the source "
                f"storage, e.g. {report.objects_missing[0]}",
                err=True,
            )
        if report.jobs_left_running:
            click.echo(
                f"medialib: {report.jobs_left_running} job(s) still running were not copied; "
                "let them finish and copy again",
                err=True,
            )
        if report.events_left_pending:
            click.echo(
                f"medialib: {report.events_left_pending} event(s) still being delivered were "
                "not copied; copy again when their webhooks have been delivered",
                err=True,
            )

    with_runtime(work, source_settings)
