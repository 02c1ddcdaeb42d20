"""The item pipeline: fetch -> sniff -> probe -> store -> upsert -> finish job.

Items are worked in chunks (one `process_items` task per chunk): their downloads run
concurrently, and their results are written in one transaction together with the job's count
of pending items, so a chunk is recorded entirely or not at all. A chunk that is run again
(after a crash) only works the items still pending.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from medialib.config import MediaType
from medialib.db.engine import Tx
from medialib.db.tables import import_items, import_jobs, media_entries, utcnow
from medialib.db.upsert import insert_ignoring_conflicts
from medialib.fetch import Download, FetchError, remove_quietly
from medialib.imports.jobs import progress_in
from medialib.imports.metadata import extracted_metadata
from medialib.library import assets as asset_rules
from medialib.library.entries import entry_from_row, new_entry_id
from medialib.library.metadata import without_nulls
from medialib.library.models import Entry
from medialib.probe import HTML, ImageInfo, ProbeError, Sniffed, probe_image, probe_svg, sniff
from medialib.storage import StorageError, new_key
from medialib.tasks.registry import TaskContext, task

log = logging.getLogger("medialib.imports")

ALREADY_EXISTS = "already exists"


@dataclass
class EntryWrite:
    """What an item changes in the library: an update of `entry_id`, or a new entry."""

    values: dict[str, Any]
    entry_id: str | None = None
    new_asset: dict[str, Any] | None = None
    # For a new entry: its externalId and media type.
    identity: dict[str, Any] = field(default_factory=dict)


@dataclass
class ItemOutcome:
    position: int
    state: str  # success | skipped | failed
    action: str | None = None
    reason: str | None = None
    reason_code: str | None = None
    media_id: str | None = None
    result: dict[str, Any] | None = None
    write: EntryWrite | None = None
    fingerprint: str | None = None

    @classmethod
    def failed(cls, position: int, code: str, reason: str) -> ItemOutcome:
        return cls(position, "failed", reason=reason, reason_code=code)


class ItemFailed(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def result_of(entry_id: str, asset: dict[str, Any]) -> dict[str, Any]:
    """What an item's status shows of its entry (URLs are made when the status is read)."""
    keep = ("key", "width", "height", "mimeType", "size")
    return {"mediaId": entry_id} | {k: asset[k] for k in keep if k in asset}


def fingerprint(item: Any) -> str:
    """The same url, fileName, metadata and media type again means: nothing to do."""
    asked = {
        "url": item.url,
        "fileName": item.file_name,
        "metadata": item.metadata,
        "mediaType": item.media_type,
    }
    return hashlib.sha256(orjson.dumps(asked, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass
class ItemImport:
    """One item through the pipeline; returns an outcome, raises only for infrastructure."""

    ctx: TaskContext
    job: Any
    media_type: MediaType
    item: Any
    existing: Entry | None
    sniffed: Sniffed | None = field(default=None, init=False)

    @property
    def settings(self) -> Any:
        return self.ctx.runtime.settings

    async def run(self) -> ItemOutcome:
        position = self.item.position
        try:
            return await self._run()
        except ItemFailed as failure:
            return ItemOutcome.failed(position, failure.code, failure.reason)
        except FetchError as error:
            return ItemOutcome.failed(position, _fetch_code(error), _fetch_reason(error))
        except ProbeError as error:
            return ItemOutcome.failed(position, error.code, error.message)

    async def _run(self) -> ItemOutcome:
        item, existing = self.item, self.existing
        asked = fingerprint(item)
        if existing is not None:
            kind = self.ctx.runtime.config.projects[self.job.project].media_types.get(
                existing.media_type
            )
            if kind is None or kind.kind != self.media_type.kind:
                raise ItemFailed(
                    "kind_conflict",
                    f"externalId '{item.external_id}' belongs to an entry of media type "
                    f"'{existing.media_type}'",
                )
            if existing.import_fingerprint == asked:
                return ItemOutcome(
                    item.position,
                    "skipped",
                    action="unchanged",
                    reason=ALREADY_EXISTS,
                    media_id=existing.id,
                    result=result_of(existing.id, existing.asset),
                )
        download = await self._download()
        try:
            info = await asyncio.to_thread(self._inspect, download)
            metadata = self._metadata(info)
            asset = await self._asset(download, info)
        finally:
            remove_quietly(download.path)
        values = {
            "asset": asset,
            "metadata": metadata,
            "updated_at": utcnow(),
            "import_fingerprint": asked,
        }
        new_asset = asset if existing is None or asset["key"] != existing.asset.get("key") else None
        identity = {"external_id": item.external_id, "media_type": self.media_type.handle}
        return ItemOutcome(
            item.position,
            "success",
            action="updated" if existing else "created",
            fingerprint=asked,
            write=EntryWrite(values, existing.id if existing else None, new_asset, identity),
        )

    async def _download(self) -> Download:
        path = self.settings.temp_dir / f"{uuid.uuid4()}.part"
        try:
            return await self.ctx.runtime.fetcher.download(self.item.url, path, self._limit_for)
        except BaseException:
            remove_quietly(path)
            raise

    def _limit_for(self, head: bytes) -> int:
        """Decide the type from the first bytes, and with it the size limit (or refuse)."""
        sniffed = self.sniffed = sniff(head)
        rules = self.media_type.asset_rules
        if self.job.kind == "image":
            if not sniffed.is_image:
                raise FetchError(
                    "unsupported_type",
                    f"the bytes are {sniffed.mime}, not a png, jpeg, gif, webp or svg image",
                )
            animated = sniffed.mime in ("image/gif", "image/webp")
            limit: int = (
                self.settings.animated_max_bytes if animated else self.settings.image_max_bytes
            )
        else:
            if sniffed == HTML:
                raise FetchError("unsupported_type", "the bytes are an HTML page, not a file")
            if rules and rules.mimeTypes and sniffed.mime not in rules.mimeTypes:
                raise FetchError(
                    "unsupported_type",
                    f"the bytes are {sniffed.mime}; media type '{self.media_type.handle}' "
                    f"takes {', '.join(rules.mimeTypes)}",
                )
            limit = self.settings.file_max_bytes
        if rules and rules.maxSize:
            limit = min(limit, rules.maxSize)
        return limit

    def _inspect(self, download: Download) -> ImageInfo | None:
        """Runs in a thread: the probes read files and parse headers."""
        assert self.sniffed is not None
        if self.job.kind == "image":
            return probe_image(
                download.path, self.sniffed, download.tail, self.settings.image_max_pixels
            )
        if self.sniffed.mime == "image/svg+xml":
            probe_svg(download.path)  # served as an image: it must be as safe as one
        return None

    def _metadata(self, info: ImageInfo | None) -> dict[str, Any]:
        """The file's own metadata (as the media type maps it) under the request's."""
        embedded = info.embedded if info else {}
        metadata = extracted_metadata(embedded, self.media_type) | without_nulls(self.item.metadata)
        issues = self.media_type.schema.validate(metadata)
        if issues:
            raise ItemFailed("invalid_metadata", "; ".join(i.message() for i in issues))
        return metadata

    async def _asset(self, download: Download, info: ImageInfo | None) -> dict[str, Any]:
        assert self.sniffed is not None
        existing = self.existing
        filename = _filename(self.item.file_name, self.sniffed.extension)
        if existing is not None and existing.asset.get("sha256") == download.sha256:
            # The same bytes again: keep the stored object, change only what describes it.
            return existing.asset | {"filename": filename}
        key = new_key(self.sniffed.extension)
        await self.ctx.runtime.storage.put_file(key, download.path, content_type=self.sniffed.mime)
        asset: dict[str, Any] = {"key": key, "size": download.size}
        if info is not None:
            asset |= {"width": info.width, "height": info.height}
        return asset | {
            "filename": filename,
            "mimeType": self.sniffed.mime,
            "sha256": download.sha256,
        }


def _filename(file_name: str, extension: str) -> str:
    """The item's fileName as a file name: no folders, no control characters, an extension."""
    name = "".join(ch for ch in file_name if ch.isprintable() and ch not in '/\\:*?"<>|').strip()
    name = name.strip(".") or "file"
    if not name.lower().endswith(f".{extension}"):
        name = f"{name}.{extension}"
    return name[:255]


def _fetch_code(error: FetchError) -> str:
    if error.code == "http_error" and error.http_status:
        return f"http_{error.http_status}"
    return error.code


def _fetch_reason(error: FetchError) -> str:
    return f"Could not download: {error.message}"


# --- Tasks ------------------------------------------------------------------------------------


@task("process_items", max_attempts=5)
async def process_items(ctx: TaskContext, job_id: str, positions: list[int]) -> None:
    db = ctx.runtime.db
    async with db.read() as conn:
        job = (await conn.execute(sa.select(import_jobs).where(import_jobs.c.id == job_id))).first()
        if job is None or job.finished_at is not None:
            return
        items = (
            await conn.execute(
                sa.select(import_items).where(
                    import_items.c.job_id == job_id,
                    import_items.c.position.in_(positions),
                    import_items.c.state == "pending",
                )
            )
        ).all()
        if not items:
            return
        existing = await _entries_by_external_id(conn, job, [i.external_id for i in items])
    project = ctx.runtime.config.projects.get(job.project)
    outcomes: list[ItemOutcome] = []
    work: list[ItemImport] = []
    for item in items:
        media_type = project.media_types.get(item.media_type) if project else None
        if media_type is None:
            reason = f"media type '{item.media_type}' is no longer configured"
            outcomes.append(ItemOutcome.failed(item.position, "unknown_media_type", reason))
        else:
            work.append(ItemImport(ctx, job, media_type, item, existing.get(item.external_id)))
    try:
        async with asyncio.TaskGroup() as group:
            running = [group.create_task(one.run()) for one in work]
    except ExceptionGroup as failed:
        # One item hit trouble beyond itself (storage, database): the chunk is tried again.
        raise failed.exceptions[0] from failed
    outcomes += [done.result() for done in running]
    await _record(ctx, job, outcomes)


@process_items.on_give_up
async def _fail_remaining(
    ctx: TaskContext, error: Exception, job_id: str, positions: list[int]
) -> None:
    """After the last attempt, the chunk's unfinished items fail, so the job still finishes."""
    code = "storage_error" if isinstance(error, StorageError) else "internal_error"
    log.error("giving up items %s of job %s: %r", positions, job_id, error)

    def fail(tx: Tx) -> None:
        if _lock_job(tx, job_id) is None:
            return
        still = _pending_positions(tx, job_id, positions)
        reason = "The item could not be processed; try importing it again."
        _write_items(tx, job_id, [ItemOutcome.failed(p, code, reason) for p in still])
        _count_down(tx, job_id, len(still))

    await ctx.runtime.db.transact(fail, ctx.runtime.queue)


async def _entries_by_external_id(
    conn: AsyncConnection, job: Any, external_ids: list[str]
) -> dict[str, Entry]:
    rows = await conn.execute(
        sa.select(media_entries).where(
            media_entries.c.project == job.project,
            media_entries.c.system_name == job.system_name,
            media_entries.c.external_id.in_(external_ids),
        )
    )
    return {row.external_id: entry_from_row(row) for row in rows.all()}


def _lock_job(tx: Tx, job_id: str) -> Any:
    query = sa.select(import_jobs).where(import_jobs.c.id == job_id)
    if tx.is_postgres:
        query = query.with_for_update()
    return tx.execute(query).first()


def _pending_positions(tx: Tx, job_id: str, positions: list[int]) -> list[int]:
    """Which of `positions` are still pending; on PostgreSQL they stay locked to us until commit,
    so two runs of one chunk (a lease that ran out) cannot both record them."""
    query = sa.select(import_items.c.position).where(
        import_items.c.job_id == job_id,
        import_items.c.position.in_(positions),
        import_items.c.state == "pending",
    )
    if tx.is_postgres:
        query = query.with_for_update()
    return list(tx.execute(query).scalars())


async def _record(ctx: TaskContext, job: Any, outcomes: list[ItemOutcome]) -> None:
    storage = ctx.runtime.storage
    unused: list[str] = []

    def record(tx: Tx) -> None:
        still = set(_pending_positions(tx, job.id, [o.position for o in outcomes]))
        # Items another run of this chunk recorded first keep that run's result.
        unused.extend(_stored_keys([o for o in outcomes if o.position not in still]))
        recorded = [o for o in outcomes if o.position in still]
        _write_entries(tx, job, recorded, unused)
        _write_items(tx, job.id, recorded)
        _count_down(tx, job.id, len(recorded))

    try:
        await ctx.runtime.db.transact(record, ctx.runtime.queue)
    except BaseException:
        await _delete_quietly(storage, _stored_keys(outcomes))
        raise
    await _delete_quietly(storage, unused)


def _stored_keys(outcomes: list[ItemOutcome]) -> list[str]:
    return [o.write.new_asset["key"] for o in outcomes if o.write and o.write.new_asset]


async def _delete_quietly(storage: Any, keys: list[str]) -> None:
    """Objects nothing refers to; failing to delete one only leaves it behind."""
    for key in keys:
        try:
            await storage.delete(key)
        except StorageError as error:
            log.warning("could not delete unused object %s: %s", key, error)


def _write_entries(tx: Tx, job: Any, outcomes: list[ItemOutcome], orphans: list[str]) -> None:
    """Create and update the entries of successful items, then their asset rows."""
    creates = [o for o in outcomes if o.write and o.write.entry_id is None]
    if creates:
        rows = {o.position: _new_row(job, o) for o in creates}
        inserted = tx.execute(
            insert_ignoring_conflicts(tx.conn, media_entries).returning(media_entries.c.id),
            list(rows.values()),
        )
        written = set(inserted.scalars())
        for outcome in creates:
            row = rows[outcome.position]
            if row["id"] in written:
                outcome.media_id = row["id"]
            else:
                _adopt_concurrent_entry(tx, job, outcome, row, orphans)
    for outcome in outcomes:
        if outcome.write and outcome.write.entry_id is not None and outcome.media_id is None:
            _update_entry(tx, job, outcome.write.entry_id, outcome.write.values)
            outcome.media_id = outcome.write.entry_id
    new_assets = {
        o.write.new_asset["key"]: o.write.new_asset
        for o in outcomes
        if o.write and o.write.new_asset and o.state == "success"
    }
    asset_rules.claim_assets(tx, job.project, new_assets)
    for outcome in outcomes:
        if outcome.write and outcome.state == "success" and outcome.media_id:
            outcome.result = result_of(outcome.media_id, outcome.write.values["asset"])


def _update_entry(tx: Tx, job: Any, entry_id: str, values: dict[str, Any]) -> None:
    tx.execute(
        media_entries.update()
        .where(media_entries.c.project == job.project, media_entries.c.id == entry_id)
        .values(version=media_entries.c.version + 1, **values)
    )


def _new_row(job: Any, outcome: ItemOutcome) -> dict[str, Any]:
    assert outcome.write is not None
    values = outcome.write.values
    return {
        "project": job.project,
        "id": new_entry_id(),
        "system_name": job.system_name,
        "translations": [],
        "version": 1,
        "archived": False,
        "revoked": False,
        "revoke_note": None,
        "created_at": values["updated_at"],
        **values,
        **outcome.write.identity,
    }


def _adopt_concurrent_entry(
    tx: Tx, job: Any, outcome: ItemOutcome, row: dict[str, Any], orphans: list[str]
) -> None:
    """Another import created this (systemName, externalId) while we worked: ours becomes an
    update of that entry, or nothing when it asked for exactly the same."""
    assert outcome.write is not None
    current = tx.execute(
        sa.select(media_entries).where(
            media_entries.c.project == job.project,
            media_entries.c.system_name == job.system_name,
            media_entries.c.external_id == row["external_id"],
        )
    ).first()
    if current is None:  # the conflict was on the random id: try once more with another
        row["id"] = new_entry_id()
        tx.execute(media_entries.insert().values(**row))
        outcome.media_id = row["id"]
        return
    if current.import_fingerprint == outcome.fingerprint:
        if outcome.write.new_asset:
            orphans.append(outcome.write.new_asset["key"])
        outcome.state, outcome.action, outcome.reason = "skipped", "unchanged", ALREADY_EXISTS
        outcome.media_id = current.id
        outcome.result = result_of(current.id, current.asset)
        outcome.write = None
        return
    outcome.write.entry_id = current.id
    outcome.action = "updated"
    _update_entry(tx, job, current.id, outcome.write.values)
    outcome.media_id = current.id


_ITEM_UPDATE = (
    import_items.update()
    .where(
        import_items.c.job_id == sa.bindparam("b_job_id"),
        import_items.c.position == sa.bindparam("b_position"),
    )
    .values(
        state=sa.bindparam("b_state"),
        action=sa.bindparam("b_action"),
        reason=sa.bindparam("b_reason"),
        reason_code=sa.bindparam("b_reason_code"),
        media_id=sa.bindparam("b_media_id"),
        result=sa.bindparam("b_result", type_=import_items.c.result.type),
        finished_at=sa.bindparam("b_finished_at", type_=import_items.c.finished_at.type),
    )
)


def _write_items(tx: Tx, job_id: str, outcomes: list[ItemOutcome]) -> None:
    if not outcomes:
        return
    now = utcnow()
    tx.execute(
        _ITEM_UPDATE,
        [
            {
                "b_job_id": job_id,
                "b_position": o.position,
                "b_state": o.state,
                "b_action": o.action,
                "b_reason": (o.reason or "")[:1000] or None,
                "b_reason_code": o.reason_code,
                "b_media_id": o.media_id,
                "b_result": o.result,
                "b_finished_at": now,
            }
            for o in outcomes
        ],
    )


def _count_down(tx: Tx, job_id: str, finished: int) -> None:
    """Take the finished items off the job's pending count; at 0 the job is done."""
    if finished == 0:
        return
    pending = tx.conn.scalar(
        import_jobs.update()
        .where(import_jobs.c.id == job_id)
        .values(pending=import_jobs.c.pending - finished)
        .returning(import_jobs.c.pending)
    )
    if pending == 0:
        tx.defer("finish_job", {"job_id": job_id})


@task("finish_job", max_attempts=10)
async def finish_job(ctx: TaskContext, job_id: str) -> None:
    """success, or failed when every item failed; then the webhook, if the job has one."""

    def finish(tx: Tx) -> None:
        job = _lock_job(tx, job_id)
        if job is None or job.finished_at is not None:
            return
        progress = progress_in(tx, job_id, job.total)
        if progress.done < job.total:
            return
        state = "failed" if progress.failed == job.total else "success"
        finished = tx.execute(
            import_jobs.update()
            .where(import_jobs.c.id == job_id, import_jobs.c.finished_at.is_(None))
            .values(
                state=state,
                finished_at=utcnow(),
                webhook_state="pending" if job.webhook else "none",
            )
        )
        if finished.rowcount == 1 and job.webhook:
            tx.defer("deliver_webhook", {"job_id": job_id, "attempt": 1})

    await ctx.runtime.db.transact(finish, ctx.runtime.queue)
