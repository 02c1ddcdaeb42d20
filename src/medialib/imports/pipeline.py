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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import orjson
from sqlalchemy.engine import Connection

from medialib import logs
from medialib.db.engine import Tx
from medialib.db.tables import utcnow
from medialib.errors import ItemError
from medialib.imports import store
from medialib.imports.cancels import CancelSignals, ChunkWatch
from medialib.imports.kinds import IMAGE, ImportKind, ImportKinds, Probed
from medialib.imports.records import Item, ItemOutcome, ItemResult, ItemState, Job
from medialib.library import references, similar
from medialib.library.analysis import (
    analysis_of,
    hash_of,
    is_picture_type,
    lacks_analysis,
    with_placed_focal_point,
)
from medialib.library.crops import crops_outside
from medialib.library.events import Actor, EntryEvent, record_entry_events
from medialib.library.extraction import extracted_metadata
from medialib.library.metadata import issues_text
from medialib.library.models import Entry, JsonObject, stored_objects
from medialib.library.projects import MediaType, Project
from medialib.library.repository import (
    Action,
    Imported,
    Saved,
    entries_by_external_id,
    save_imported,
)
from medialib.library.tasks import settle_validity
from medialib.media.analysis.processes import Analyzer
from medialib.media.analysis.records import ANALYSIS_FIELDS
from medialib.media.fetch import Download, Fetcher, FetchError, remove_quietly
from medialib.media.probe.sniff import Sniffed
from medialib.media.storage import Storage, StorageError, new_key
from medialib.settings import Settings
from medialib.tasks.core import TaskServices

log = logging.getLogger("medialib.imports")

ALREADY_EXISTS = "already exists"
INVALID = "invalid_metadata"  # the reason code of an item whose metadata breaks a rule
SIMILAR_LISTED = 10  # near-duplicates an item's result names at most, the closest


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

    @property
    def kinds(self) -> ImportKinds: ...

    @property
    def cancel_signals(self) -> CancelSignals: ...

    @property
    def analyzer(self) -> Analyzer: ...


# What an item's result keeps of its asset: what describes it, and what the analysis found.
RESULT_FIELDS = (
    *("key", "width", "height", "mimeType", "size", "duration", "poster"),
    *("placeholder", "color", "focalPoint"),
)


def result_of(entry_id: str, asset: JsonObject) -> ItemResult:
    """What an item's status shows of its entry (URLs are made when the status is read)."""
    return {"mediaId": entry_id} | {k: asset[k] for k in RESULT_FIELDS if k in asset}


def fingerprint(item: Item) -> str:
    """The same url, fileName, metadata and media type again means: nothing to do."""
    asked = {
        "url": item.url,
        "fileName": item.file_name,
        "metadata": item.metadata,
        "mediaType": item.media_type,
    }
    return hashlib.sha256(orjson.dumps(asked, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass(frozen=True)
class Worked:
    """An item after the pipeline: failed or skipped (`imported` is None), or what it wants the
    library to hold."""

    outcome: ItemOutcome
    imported: Imported | None = None


@dataclass(frozen=True)
class ItemImport:
    """One item through the pipeline; returns what became of it, raises only for trouble
    beyond the item (storage, database)."""

    services: ImportServices
    kind: ImportKind
    project: Project
    media_type: MediaType
    item: Item
    existing: Entry | None

    async def run(self) -> Worked:
        # Whatever is logged while the item is worked (a retried download…) names it.
        with logs.bind(project=self.project.handle, item=self.item.position):
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
                return Worked(_unchanged(item.position, existing.id, existing.asset))
        download = await self._download()
        try:
            if self.kind.cheap_probe(download.sniffed, download.size):
                probed = self._probe(download)  # cheaper than the hop to a thread
            else:
                probed = await asyncio.to_thread(self._probe, download)
            try:
                metadata = self._metadata(probed)
                probed = await self._analyzed(download, probed)
                asset, stored = await self._asset(download, probed)
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
            new_asset=stored,
            stored_here=tuple(stored_objects(asset)) if stored else (),
        )
        outcome = ItemOutcome(item.position, ItemState.SUCCESS)
        if probed.notice is not None:
            outcome = replace(outcome, reason_code=probed.notice.code, reason=probed.notice.reason)
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

    def _limit_for(self, sniffed: Sniffed) -> int:
        """The size limit for bytes of this type (or a refusal, which stops the download)."""
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
        return self.kind.probe(
            download.path, download.sniffed, download.tail, self.services.settings
        )

    def _metadata(self, probed: Probed) -> JsonObject:
        """The file's own metadata (as the media type maps it) under the request's."""
        extracted = extracted_metadata(probed.embedded, self.media_type)
        metadata = extracted | self.media_type.schema.stored(self.item.metadata)
        issues = self.media_type.schema.validate(metadata)
        if not issues:  # the image's size is known now: its crops must lie within it
            issues = crops_outside(self.media_type.schema, metadata, probed.fields)
        if issues:
            raise ItemError(INVALID, issues_text(issues))
        return metadata

    async def _analyzed(self, download: Download, probed: Probed) -> Probed:
        """What the picture's analysis finds, in the fields of the asset (an image) or of its
        poster (a video); a picture whose pixels cannot be read is imported without."""
        if not self.services.settings.image_analysis:
            return probed
        existing = self.existing
        if (
            existing is not None
            and existing.asset.get("sha256") == download.sha256
            and not lacks_analysis(existing.asset)
        ):
            return probed  # the same bytes again: `_asset` keeps the asset and its analysis
        analyze = self.services.analyzer
        limit = self.services.settings.image_max_pixels
        if self.kind.media_kind == IMAGE.media_kind and is_picture_type(download.sniffed.mime):
            found = await analysis_of(download.path, download.sniffed.mime, analyze, limit)
            return replace(probed, fields=probed.fields | found)
        poster = probed.companions.get("poster")
        if poster is not None:
            found = await analysis_of(poster.path, poster.mime, analyze, limit)
            companions = probed.companions | {
                "poster": replace(poster, fields=poster.fields | found)
            }
            return replace(probed, companions=companions)
        return probed

    async def _asset(self, download: Download, probed: Probed) -> tuple[JsonObject, bool]:
        """The entry's asset, and whether its objects were stored for this item."""
        sniffed, existing = download.sniffed, self.existing
        filename = _filename(self.item.file_name, sniffed.extension)
        if existing is not None and existing.asset.get("sha256") == download.sha256:
            # The same bytes again: keep the stored object, change only what describes it (and
            # add what the analysis found, if the entry predates it).
            kept = existing.asset | {"filename": filename}
            if lacks_analysis(kept):
                kept |= {n: probed.fields[n] for n in ANALYSIS_FIELDS if n in probed.fields}
            return kept, False
        key = new_key(sniffed.extension)
        storage = self.services.storage
        asset = (
            {"key": key, "size": download.size}
            | probed.fields
            | {"filename": filename, "mimeType": sniffed.mime, "sha256": download.sha256}
        )
        try:
            # A cancel of the job may stop a put half way: what it stored goes again.
            await storage.put_file(key, download.path, content_type=sniffed.mime)
            for name, companion in probed.companions.items():
                companion_key = new_key(companion.extension)
                await storage.put_file(companion_key, companion.path, content_type=companion.mime)
                asset[name] = {"key": companion_key, "mimeType": companion.mime} | companion.fields
        except BaseException:
            await delete_quietly(storage, list(stored_objects(asset)))
            raise
        if existing is not None:
            asset = with_placed_focal_point(asset, existing.asset)
        return asset, True


def _unchanged(position: int, entry_id: str, asset: JsonObject) -> ItemOutcome:
    """The entry holds what was asked already."""
    return ItemOutcome(
        position,
        ItemState.SKIPPED,
        action=Action.UNCHANGED,
        reason=ALREADY_EXISTS,
        result=result_of(entry_id, asset),
    )


def _filename(file_name: str, extension: str) -> str:
    """The item's fileName as a file name: no folders, no control characters, an extension."""
    name = "".join(ch for ch in file_name if ch.isprintable() and ch not in '/\\:*?"<>|').strip()
    name = name.strip(".") or "file"
    if not name.lower().endswith(f".{extension}"):
        name = f"{name}.{extension}"
    return name[:255]


# --- A chunk ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chunk:
    """A job, and how some of its items ended (recorded together, in one transaction)."""

    job: Job
    worked: list[Worked]


@dataclass(frozen=True)
class _Loaded:
    job: Job
    ended: list[Worked]  # failed before any work (their media type is gone)
    work: list[ItemImport]


async def import_chunk(
    services: ImportServices, job_id: str, positions: list[int], when_done: Callable[[Tx], None]
) -> None:
    """Work the chunk's pending items at once, recording each as it finishes: whatever has
    finished while the last transaction ran is written by the next one, so progress moves item by
    item without a transaction per item. Trouble beyond an item (storage, database) leaves that
    item pending and raises once the others are recorded, so the chunk is tried again for it.
    A cancel of the job stops the items under way (`ChunkWatch`); the chunk then ends without
    an error, as the cancel failed its items already."""
    loaded = await _load(services, job_id, positions)
    if loaded is None:
        return
    async with ChunkWatch(services.db, services.cancel_signals, job_id) as watch:
        await _work(services, loaded, watch, when_done)


async def _work(
    services: ImportServices, loaded: _Loaded, watch: ChunkWatch, when_done: Callable[[Tx], None]
) -> None:
    finished: asyncio.Queue[Worked | None] = asyncio.Queue()
    troubles: list[Exception] = []
    for ended in loaded.ended:
        finished.put_nowait(ended)

    async def run(one: ItemImport) -> None:
        try:
            finished.put_nowait(await watch.run(one.run()))
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
    if troubles and not watch.cancelled:  # a cancelled job's items are not tried again
        raise troubles[0]


def _drain(queue: asyncio.Queue[Worked | None]) -> list[Worked | None]:
    drained = []
    while not queue.empty():
        drained.append(queue.get_nowait())
    return drained


async def _load(services: ImportServices, job_id: str, positions: list[int]) -> _Loaded | None:
    """The job and the chunk's pending items; None when there is nothing left to do."""
    async with services.db.read() as conn:
        job = await store.read_job(conn, job_id)
        if job is None or job.finished:
            return None
        items = await store.pending_items(conn, job_id, positions)
        if not items:
            return None
        existing = await entries_by_external_id(
            conn, job.project, job.system_name, [i.external_id for i in items]
        )
    kind = services.kinds.named(job.kind)
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
    shared: list[Saved] = []
    failed: list[ItemOutcome] = []
    project = services.projects.get(job.project)
    held: dict[int, list[similar.Similar]] = {}

    def record(tx: Tx) -> None:
        unused.clear()
        still = set(store.pending_positions(tx, job.id, [w.outcome.position for w in chunk.worked]))
        # Items recorded first by another run of this chunk, or cancelled, keep that result.
        unused.extend(_stored_keys(w for w in chunk.worked if w.outcome.position not in still))
        recorded = [w for w in chunk.worked if w.outcome.position in still]
        recorded = _refuse_broken_references(tx, project, recorded, unused)
        wanted = [w.imported for w in recorded if w.imported is not None]
        result = save_imported(tx, job.project, job.system_name, wanted)
        unused.extend(result.orphans)
        shared[:] = [s for s in result.saved if s.same_bytes_as is not None]
        _index_references(tx, project, result.saved)
        near = _index_pictures(tx, project, recorded, result.saved, held)
        _record_changes(tx, project, job, result.saved)
        made = iter(result.saved)
        outcomes = [
            _settled(w.outcome, next(made), near) if w.imported is not None else w.outcome
            for w in recorded
        ]
        failed[:] = [o for o in outcomes if o.state == ItemState.FAILED]
        if store.record_items(tx, job.id, outcomes):
            when_done(tx)

    try:
        held |= await _near_held(services, project, chunk.worked)
        await services.db.transact(record)
    except BaseException:
        await delete_quietly(services.storage, _stored_keys(chunk.worked))
        raise
    await delete_quietly(services.storage, unused)
    log_failures(job, failed)
    for saved in shared:
        assert saved.same_bytes_as is not None
        services.storage.share_bytes(saved.asset["key"], saved.same_bytes_as)


def log_failures(job: Job, failed: Iterable[ItemOutcome]) -> None:
    """A line per failed item, once its failure is recorded (an item failed by a run that
    another run beat to it is not)."""
    for outcome in failed:
        log.warning(
            "item %d failed: %s",
            outcome.position,
            outcome.reason_code,
            extra={
                "job_id": job.id,
                "project": job.project,
                "item": outcome.position,
                "reason_code": outcome.reason_code,
                "reason": (outcome.reason or "")[:300],
            },
        )


def _refuse_broken_references(
    tx: Tx, project: Project | None, recorded: list[Worked], unused: list[str]
) -> list[Worked]:
    """Items whose metadata names an entry the project does not have fail (checked here, in the
    transaction that writes them, as the entries they name may go meanwhile); the objects they
    stored join `unused`. References an entry held already are not checked again."""
    if project is None:
        return recorded
    found: dict[int, list[references.Mention]] = {}
    for worked in recorded:
        imported = worked.imported
        media_type = project.media_types.get(imported.media_type) if imported else None
        if imported is not None and media_type is not None:
            named = references.mentions(media_type, imported.metadata)
            if named:
                found[worked.outcome.position] = named
    if not found:
        return recorded
    kinds = references.kinds_of(tx, project, (m for named in found.values() for m in named))
    existing = [w.imported.existing_id for w in recorded if w.imported and w.imported.existing_id]
    holding = references.held(tx, project.handle, existing)
    checked = []
    for worked in recorded:
        imported, asked = worked.imported, found.get(worked.outcome.position)
        if imported is not None and asked:
            was = holding.get(imported.existing_id or "", frozenset())
            issues = references.problems(asked, was, kinds)
            if issues:
                unused.extend(imported.stored_here)
                reason = issues_text(issues)
                worked = Worked(ItemOutcome.failed(worked.outcome.position, INVALID, reason))
        checked.append(worked)
    return checked


def _index_references(tx: Tx, project: Project | None, saved: list[Saved]) -> None:
    """The index of references follows the metadata the import wrote: a new entry's are its
    metadata's; an updated entry keeps those of its translations too."""
    if project is None:
        return
    created: dict[str, frozenset[references.MediaReference]] = {}
    updated: list[str] = []
    for one in saved:
        media_type = project.media_types.get(one.imported.media_type)
        if one.action == Action.UNCHANGED or media_type is None:
            continue
        if one.action == Action.UPDATED:
            if references.names_entries(media_type):
                updated.append(one.media_id)
            continue
        named = references.mentions(media_type, one.imported.metadata)
        if named:
            created[one.media_id] = references.references_of(named)
    references.record(tx, project.handle, created, new=True)
    if updated:
        references.reindex(tx, project, updated)


async def _near_held(
    services: ImportServices, project: Project | None, worked: list[Worked]
) -> dict[int, list[similar.Similar]]:
    """Each new picture's near-duplicates among the entries the project holds, by item position:
    looked up before the write transaction, so that the lookup (thousands of index entries on a
    large library) holds no writer up."""
    if project is None:
        return {}
    hashes = {
        f"#{w.outcome.position}": phash  # no entry id has a '#': never taken for one
        for w in worked
        if w.imported is not None and (phash := hash_of(w.imported.asset)) is not None
    }
    if not hashes:
        return {}
    threshold = project.near_duplicate_threshold

    def look(conn: Connection) -> dict[str, list[similar.Similar]]:
        return similar.near_many(conn, project.handle, hashes, threshold, limit=SIMILAR_LISTED + 1)

    async with services.db.read() as conn:
        found = await conn.run_sync(look)
    return {int(position[1:]): near for position, near in found.items()}


def _index_pictures(
    tx: Tx,
    project: Project | None,
    recorded: list[Worked],
    saved: list[Saved],
    held: Mapping[int, list[similar.Similar]],
) -> dict[str, list[similar.Similar]]:
    """The perceptual hashes of the pictures the import wrote, into the index; and each one's
    near-duplicates: those held before (`held`, never the entry itself: an update's old
    picture is not its near-duplicate) and the other pictures of this chunk, closest first."""
    if project is None:
        return {}
    positions = [w.outcome.position for w in recorded if w.imported is not None]
    written = [
        (p, s) for p, s in zip(positions, saved, strict=True) if s.action != Action.UNCHANGED
    ]
    hashes = {s.media_id: hash_of(s.asset) for _, s in written}
    if not hashes:
        return {}
    similar.record_hashes(tx, project.handle, hashes)
    threshold = project.near_duplicate_threshold
    near: dict[str, list[similar.Similar]] = {}
    for position, one in written:
        phash = hashes[one.media_id]
        if phash is None:
            continue
        found = {n.media_id: n.distance for n in held.get(position, ())}
        for other, other_hash in hashes.items():
            if (
                other_hash is not None
                and (apart := similar.distance(phash, other_hash)) <= threshold
            ):
                found[other] = apart
        found.pop(one.media_id, None)
        near[one.media_id] = sorted(
            (similar.Similar(media_id, apart) for media_id, apart in found.items()),
            key=lambda n: (n.distance, n.media_id),
        )[:SIMILAR_LISTED]
    return near


def _record_changes(tx: Tx, project: Project | None, job: Job, saved: list[Saved]) -> None:
    """The entries' events; and what their metadata says of their validity acts at once (an
    entry imported invalid is withheld, its `invalid` event beside its create or update)."""
    if project is None:
        return
    actor = Actor("importer", job.system_name)
    for action, event in ((Action.CREATED, EntryEvent.CREATE), (Action.UPDATED, EntryEvent.UPDATE)):
        ids = [s.media_id for s in saved if s.action == action]
        record_entry_events(tx, project, event, ids, actor)
    written = [s.media_id for s in saved if s.action != Action.UNCHANGED]
    for event, ids in settle_validity(tx, project, written).events():
        record_entry_events(tx, project, event, ids, actor)


def _settled(
    outcome: ItemOutcome, saved: Saved, near: Mapping[str, list[similar.Similar]]
) -> ItemOutcome:
    """The item's outcome from what the library made of it."""
    result = result_of(saved.media_id, saved.asset)
    if saved.duplicate_of is not None:
        result["duplicateOf"] = saved.duplicate_of
    if near.get(saved.media_id):
        result["similarTo"] = [
            {"mediaId": one.media_id, "distance": one.distance} for one in near[saved.media_id]
        ]
    if saved.action == Action.UNCHANGED:
        return replace(
            outcome,
            state=ItemState.SKIPPED,
            action=saved.action,
            reason=ALREADY_EXISTS,
            result=result,
        )
    return replace(outcome, action=saved.action, result=result)


def _stored_keys(worked: Iterable[Worked]) -> list[str]:
    """The objects stored for these items (whatever their entries came to point at)."""
    return [key for w in worked if w.imported for key in w.imported.stored_here]


async def delete_quietly(storage: Storage, keys: Sequence[str]) -> None:
    """Objects nothing refers to; failing to delete one only leaves it behind."""
    for key in keys:
        try:
            await storage.delete(key)
        except StorageError as error:
            log.warning("could not delete unused object %s: %s", key, error)
