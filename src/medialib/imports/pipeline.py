"""The item pipeline: fetch -> sniff -> probe -> store -> write the entry -> record the item.

Items are worked in chunks (one `process_items` task per chunk): their downloads run
concurrently, and each item's result is written as it finishes, together with the job's count of
pending items (those that finish while a transaction runs share the next one). A chunk that is
run again (after a crash) only works the items still pending. What differs between kinds (which
bytes, how large, what probing finds) comes from the job's `ImportKind`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
import sqlalchemy as sa

from medialib.db.engine import Tx
from medialib.db.tables import import_items, import_jobs, utcnow
from medialib.errors import ItemError
from medialib.imports.jobs import ItemOutcome, ItemState, pending_positions, record_items
from medialib.imports.kinds import ImportKind, Probed, kind_named
from medialib.library.events import EntryEvent, record_entry_events
from medialib.library.extraction import extracted_metadata
from medialib.library.metadata import without_nulls
from medialib.library.models import Entry, stored_objects
from medialib.library.projects import MediaType, Project
from medialib.library.repository import Action, Imported, entries_by_external_id, save_imported
from medialib.media.fetch import Download, Fetcher, FetchError, remove_quietly
from medialib.media.probe.sniff import Sniffed, sniff
from medialib.media.storage import Storage, StorageError, new_key
from medialib.settings import Settings
from medialib.tasks.core import TaskServices

log = logging.getLogger("medialib.imports")

ALREADY_EXISTS = "already exists"


class ImportServices(TaskServices, Protocol):
    """What importing needs besides the database."""

    @property
    def settings(self) -> Settings: ...

    @property
    def projects(self) -> dict[str, Project]: ...

    @property
    def storage(self) -> Storage: ...

    @property
    def fetcher(self) -> Fetcher: ...


def result_of(entry_id: str, asset: dict[str, Any]) -> dict[str, Any]:
    """What an item's status shows of its entry (URLs are made when the status is read)."""
    keep = ("key", "width", "height", "mimeType", "size", "duration", "poster")
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
class Worked:
    """An item after the pipeline: failed or skipped (`imported` is None), or what it wants the
    library to hold."""

    outcome: ItemOutcome
    imported: Imported | None = None


@dataclass
class ItemImport:
    """One item through the pipeline; returns what became of it, raises only for trouble
    beyond the item (storage, database)."""

    services: ImportServices
    kind: ImportKind
    project: Project
    media_type: MediaType
    item: Any
    existing: Entry | None
    sniffed: Sniffed | None = field(default=None, init=False)
    stored: bool = field(default=False, init=False)  # its objects were written for it

    async def run(self) -> Worked:
        try:
            return await self._run()
        except ItemError as error:
            return Worked(ItemOutcome.failed(self.item.position, error.code, error.message))

    async def _run(self) -> Worked:
        item, existing = self.item, self.existing
        asked = fingerprint(item)
        if existing is not None:
            current = self.project.media_types.get(existing.media_type)
            if current is None or current.kind != self.media_type.kind:
                raise ItemError(
                    "kind_conflict",
                    f"externalId '{item.external_id}' belongs to an entry of media type "
                    f"'{existing.media_type}'",
                )
            if existing.import_fingerprint == asked:
                return Worked(
                    ItemOutcome(
                        item.position,
                        ItemState.SKIPPED,
                        action=Action.UNCHANGED,
                        reason=ALREADY_EXISTS,
                        result=result_of(existing.id, existing.asset),
                    )
                )
        download = await self._download()
        try:
            assert self.sniffed is not None  # the download sniffed it
            if self.kind.cheap_probe(self.sniffed, download.size):
                probed = self._probe(download)  # cheaper than the hop to a thread
            else:
                probed = await asyncio.to_thread(self._probe, download)
            try:
                metadata = self._metadata(probed)
                asset = await self._asset(download, probed)
            finally:
                for companion in probed.companions.values():
                    remove_quietly(companion.path)
        finally:
            remove_quietly(download.path)
        imported = Imported(
            external_id=item.external_id,
            media_type=self.media_type.handle,
            asset=asset,
            metadata=metadata,
            fingerprint=asked,
            now=utcnow(),
            existing_id=existing.id if existing else None,
            new_asset=self.stored,
            stored_here=tuple(stored_objects(asset)) if self.stored else (),
        )
        outcome = ItemOutcome(item.position, ItemState.SUCCESS)
        if probed.notice is not None:
            outcome.reason_code, outcome.reason = probed.notice.code, probed.notice.reason
        return Worked(outcome, imported)

    async def _download(self) -> Download:
        path = self.services.settings.temp_dir / f"{uuid.uuid4()}.part"
        try:
            return await self.services.fetcher.download(self.item.url, path, self._limit_for)
        except ItemError as error:
            remove_quietly(path)
            raise ItemError(error.code, f"Could not download: {error.message}") from error
        except BaseException:
            remove_quietly(path)
            raise

    def _limit_for(self, head: bytes) -> int:
        """Decide the type from the first bytes, and with it the size limit (or refuse)."""
        sniffed = self.sniffed = sniff(head)
        refusal = self.kind.refuse(sniffed)
        rules = self.media_type.asset_rules
        if refusal is None and (not_allowed := rules.refusal(sniffed.mime)):
            refusal = f"the bytes are {sniffed.mime}; media type '{self.media_type.handle}' "
            refusal += not_allowed
        if refusal is not None:
            raise FetchError("unsupported_type", refusal)
        limit = self.kind.cap(sniffed, self.services.settings)
        return min(limit, rules.max_size) if rules.max_size else limit

    def _probe(self, download: Download) -> Probed:
        """Probes read files and parse headers: in a thread unless the kind says it is cheap."""
        assert self.sniffed is not None
        return self.kind.probe(download.path, self.sniffed, download.tail, self.services.settings)

    def _metadata(self, probed: Probed) -> dict[str, Any]:
        """The file's own metadata (as the media type maps it) under the request's."""
        extracted = extracted_metadata(probed.embedded, self.media_type)
        metadata = extracted | without_nulls(self.item.metadata)
        issues = self.media_type.schema.validate(metadata)
        if issues:
            raise ItemError("invalid_metadata", "; ".join(i.message() for i in issues))
        return metadata

    async def _asset(self, download: Download, probed: Probed) -> dict[str, Any]:
        assert self.sniffed is not None
        existing = self.existing
        filename = _filename(self.item.file_name, self.sniffed.extension)
        if existing is not None and existing.asset.get("sha256") == download.sha256:
            # The same bytes again: keep the stored object, change only what describes it.
            return existing.asset | {"filename": filename}
        key = new_key(self.sniffed.extension)
        self.stored = True
        storage = self.services.storage
        await storage.put_file(key, download.path, content_type=self.sniffed.mime)
        asset = (
            {"key": key, "size": download.size}
            | probed.fields
            | {"filename": filename, "mimeType": self.sniffed.mime, "sha256": download.sha256}
        )
        try:
            for name, companion in probed.companions.items():
                companion_key = new_key(companion.extension)
                await storage.put_file(companion_key, companion.path, content_type=companion.mime)
                asset[name] = {"key": companion_key, "mimeType": companion.mime} | companion.fields
        except BaseException:
            await delete_quietly(storage, list(stored_objects(asset)))
            raise
        return asset


def _filename(file_name: str, extension: str) -> str:
    """The item's fileName as a file name: no folders, no control characters, an extension."""
    name = "".join(ch for ch in file_name if ch.isprintable() and ch not in '/\\:*?"<>|').strip()
    name = name.strip(".") or "file"
    if not name.lower().endswith(f".{extension}"):
        name = f"{name}.{extension}"
    return name[:255]


# --- A chunk ---------------------------------------------------------------------------------


@dataclass
class Chunk:
    """A job, and how some of its items ended (recorded together, in one transaction)."""

    job: Any
    worked: list[Worked]


@dataclass
class _Loaded:
    job: Any
    ended: list[Worked]  # failed before any work (their media type is gone)
    work: list[ItemImport]


async def import_chunk(
    services: ImportServices, job_id: str, positions: list[int], when_done: Callable[[Tx], None]
) -> None:
    """Work the chunk's pending items at once, recording each as it finishes: whatever has
    finished while the last transaction ran is written by the next one, so progress moves item by
    item without a transaction per item. Trouble beyond an item (storage, database) leaves that
    item pending and raises once the others are recorded, so the chunk is tried again for it."""
    loaded = await _load(services, job_id, positions)
    if loaded is None:
        return
    finished: asyncio.Queue[Worked | None] = asyncio.Queue()
    troubles: list[Exception] = []
    for ended in loaded.ended:
        finished.put_nowait(ended)

    async def run(one: ItemImport) -> None:
        try:
            finished.put_nowait(await one.run())
        except Exception as error:
            troubles.append(error)
            finished.put_nowait(None)

    async def record_all(count: int) -> None:
        while count:
            batch = [await finished.get()]
            while not finished.empty():
                batch.append(finished.get_nowait())
            count -= len(batch)
            worked = [w for w in batch if w is not None]
            if worked:
                await record_chunk(services, Chunk(loaded.job, worked), when_done)

    try:
        async with asyncio.TaskGroup() as group:
            for one in loaded.work:
                group.create_task(run(one))
            group.create_task(record_all(len(loaded.ended) + len(loaded.work)))
    except ExceptionGroup as failed:
        # Recording failed: what finished but was not recorded leaves no object behind.
        left = [w for w in _drain(finished) if w is not None]
        await delete_quietly(services.storage, _stored_keys(left))
        raise failed.exceptions[0] from failed
    if troubles:
        raise troubles[0]


def _drain(queue: asyncio.Queue[Worked | None]) -> list[Worked | None]:
    drained = []
    while not queue.empty():
        drained.append(queue.get_nowait())
    return drained


async def _load(services: ImportServices, job_id: str, positions: list[int]) -> _Loaded | None:
    """The job and the chunk's pending items; None when there is nothing left to do."""
    async with services.db.read() as conn:
        job = (await conn.execute(sa.select(import_jobs).where(import_jobs.c.id == job_id))).first()
        if job is None or job.finished_at is not None:
            return None
        items = (
            await conn.execute(
                sa.select(import_items).where(
                    import_items.c.job_id == job_id,
                    import_items.c.position.in_(positions),
                    import_items.c.state == ItemState.PENDING,
                )
            )
        ).all()
        if not items:
            return None
        existing = await entries_by_external_id(
            conn, job.project, job.system_name, [i.external_id for i in items]
        )
    kind = kind_named(job.kind)
    project = services.projects.get(job.project)
    loaded = _Loaded(job, [], [])
    for item in items:
        media_type = project.media_types.get(item.media_type) if project else None
        if project is None or media_type is None:
            reason = f"media type '{item.media_type}' is no longer configured"
            loaded.ended.append(
                Worked(ItemOutcome.failed(item.position, "unknown_media_type", reason))
            )
        else:
            found = existing.get(item.external_id)
            loaded.work.append(ItemImport(services, kind, project, media_type, item, found))
    return loaded


async def record_chunk(
    services: ImportServices, chunk: Chunk, when_done: Callable[[Tx], None]
) -> None:
    """Write the items' entries and outcomes in one transaction; `when_done` runs in it when
    that finished the last items of the job. Stored objects that end up unused are deleted."""
    job = chunk.job
    unused: list[str] = []
    saved: list[Imported] = []

    def record(tx: Tx) -> None:
        still = set(pending_positions(tx, job.id, [w.outcome.position for w in chunk.worked]))
        # Items recorded first by another run of this chunk, or cancelled, keep that result.
        unused.extend(_stored_keys(w for w in chunk.worked if w.outcome.position not in still))
        recorded = [w for w in chunk.worked if w.outcome.position in still]
        wanted = [w.imported for w in recorded if w.imported is not None]
        unused.extend(save_imported(tx, job.project, job.system_name, wanted))
        saved[:] = wanted
        _record_changes(tx, services.projects.get(job.project), wanted)
        for worked in recorded:
            _settle(worked)
        if record_items(tx, job.id, [w.outcome for w in recorded]):
            when_done(tx)

    try:
        await services.db.transact(record)
    except BaseException:
        await delete_quietly(services.storage, _stored_keys(chunk.worked))
        raise
    await delete_quietly(services.storage, unused)
    for imported in saved:
        if imported.same_bytes_as is not None and imported.action != Action.UNCHANGED:
            services.storage.share_bytes(imported.asset["key"], imported.same_bytes_as)


def _record_changes(tx: Tx, project: Project | None, saved: list[Imported]) -> None:
    if project is None:
        return
    for action, event in ((Action.CREATED, EntryEvent.CREATE), (Action.UPDATED, EntryEvent.UPDATE)):
        ids = [i.media_id for i in saved if i.action == action and i.media_id is not None]
        record_entry_events(tx, project, event, ids)


def _settle(worked: Worked) -> None:
    """The item's outcome from what the library made of it."""
    imported, outcome = worked.imported, worked.outcome
    if imported is None or imported.media_id is None or imported.entry_asset is None:
        return
    outcome.action = imported.action
    outcome.result = result_of(imported.media_id, imported.entry_asset)
    if imported.duplicate_of is not None and imported.action != Action.UNCHANGED:
        outcome.result["duplicateOf"] = imported.duplicate_of
    if imported.action == Action.UNCHANGED:
        outcome.state, outcome.reason = ItemState.SKIPPED, ALREADY_EXISTS


def _stored_keys(worked: Any) -> list[str]:
    """The objects stored for these items (whatever their entries came to point at)."""
    return [key for w in worked if w.imported for key in w.imported.stored_here]


async def delete_quietly(storage: Storage, keys: Sequence[str]) -> None:
    """Objects nothing refers to; failing to delete one only leaves it behind."""
    for key in keys:
        try:
            await storage.delete(key)
        except StorageError as error:
            log.warning("could not delete unused object %s: %s", key, error)
