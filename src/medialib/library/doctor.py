"""The store checked against the database (`medialib doctor`), and what nothing references
removed (`--repair`, and the periodic sweep of expired uploads and orphaned renditions).

What it finds, by key:

- an object with neither an asset row nor an upload row (left by a crash between storing a
  download and recording it, or put there by hand): removable;
- an asset row whose object is missing, with the entries that point at it: not removable
  (the entries would lose their asset; import it again);
- an asset row no entry points at, now or before: removable (object, renditions, row);
- a rendition whose original is no live asset (made while the original was being deleted):
  removable;
- an upload never registered, `grace` past its URL's expiry: removable (object and row);
- an object let go of whose deletion never finished: removable, as the deletion would.

Imports store an object a moment before they record its row, so objects and rows younger than
`grace` are left out; and every finding is looked at again, row and object, just before it is
reported (and again before it is removed): the listing and the database are read one after the
other while the server runs.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from medialib.db.engine import Database
from medialib.db.tables import assets, entry_keys, media_entries, uploads, utcnow
from medialib.library.assets import VARIANTS, variant_prefix
from medialib.library.models import stored_objects
from medialib.media.storage import Storage

GRACE = dt.timedelta(hours=1)
BATCH = 1000
log = logging.getLogger("medialib.library")


class Problem(enum.StrEnum):
    OBJECT_WITHOUT_ROW = "object-without-row"
    ROW_WITHOUT_OBJECT = "row-without-object"
    ASSET_WITHOUT_ENTRY = "asset-without-entry"
    ORPHANED_RENDITION = "orphaned-rendition"
    EXPIRED_UPLOAD = "expired-upload"
    RELEASED_NOT_DELETED = "released-not-deleted"


@dataclass(frozen=True)
class Finding:
    problem: Problem
    key: str
    project: str | None = None
    entries: tuple[str, ...] = ()  # the entries that point (or pointed) at the key

    @property
    def removable(self) -> bool:
        """Nothing references it: `repair` removes it."""
        return self.problem is not Problem.ROW_WITHOUT_OBJECT


@dataclass
class Checkup:
    findings: list[Finding] = field(default_factory=list)
    objects: int = 0  # objects looked at
    rows: int = 0  # asset and upload rows looked at


@dataclass
class _Rows:
    """What the database says of every key."""

    live: dict[str, str] = field(default_factory=dict)  # asset key -> project
    released: dict[str, str] = field(default_factory=dict)
    young: set[str] = field(default_factory=set)  # asset rows made within the grace
    uploads: dict[str, tuple[str, dt.datetime]] = field(default_factory=dict)
    holders: dict[str, set[str]] = field(default_factory=dict)  # key -> entry ids


async def examine(db: Database, storage: Storage, *, grace: dt.timedelta = GRACE) -> Checkup:
    """Every problem of the store and the database, confirmed; sorted by problem and key."""
    now = utcnow()
    objects: set[str] = set()
    recent: set[str] = set()
    async for page in storage.list_objects():
        for info in page:
            objects.add(info.key)
            if info.last_modified > now - grace:
                recent.add(info.key)
    rows = await _read_rows(db, now - grace)
    checkup = Checkup(objects=len(objects), rows=len(rows.live) + len(rows.released))
    candidates = _compare(objects, recent, rows, now - grace)
    checkup.findings = sorted(
        await confirmed(db, storage, candidates, grace=grace),
        key=lambda f: (f.problem, f.key),
    )
    return checkup


async def _read_rows(db: Database, before: dt.datetime) -> _Rows:
    rows = _Rows()
    async with db.read(snapshot=True) as conn:
        found = await conn.stream(
            sa.select(assets.c.key, assets.c.project, assets.c.released_at, assets.c.created_at)
        )
        async for batch in found.partitions(BATCH):
            for key, project, released_at, created_at in batch:
                (rows.live if released_at is None else rows.released)[key] = project
                if (released_at or created_at) > before:
                    rows.young.add(key)
        pending = await conn.stream(
            sa.select(uploads.c.key, uploads.c.project, uploads.c.expires_at)
        )
        async for waiting in pending.partitions(BATCH):
            for key, project, expires_at in waiting:
                rows.uploads[key] = (project, expires_at)
        kept = await conn.stream(sa.select(entry_keys.c.key, entry_keys.c.entry_id))
        async for pairs in kept.partitions(BATCH):
            for key, entry_id in pairs:
                rows.holders.setdefault(key, set()).add(entry_id)
        entries = await conn.stream(
            sa.select(media_entries.c.id, media_entries.c.asset, media_entries.c.translations)
        )
        async for page in entries.partitions(BATCH):
            for entry_id, asset, translations in page:
                for key in _keys_of(asset, translations):
                    rows.holders.setdefault(key, set()).add(entry_id)
    return rows


def _keys_of(asset: Any, translations: Any) -> list[str]:
    """The keys an entry's row points at now (its asset's, a poster's, its translations')."""
    found = [asset] + [t.get("asset") for t in translations or [] if isinstance(t, dict)]
    return [key for one in found if isinstance(one, dict) for key in stored_objects(one)]


def _compare(
    objects: set[str], recent: set[str], rows: _Rows, before: dt.datetime
) -> list[Finding]:
    found: list[Finding] = []
    for key in sorted(objects - recent):
        if key.startswith(VARIANTS):
            if _original_of(key) not in rows.live:
                found.append(Finding(Problem.ORPHANED_RENDITION, key))
        elif key not in rows.live and key not in rows.released and key not in rows.uploads:
            found.append(Finding(Problem.OBJECT_WITHOUT_ROW, key))
    for key, project in sorted(rows.live.items()):
        entries = tuple(sorted(rows.holders.get(key, ())))
        if not entries and key not in rows.young:
            found.append(Finding(Problem.ASSET_WITHOUT_ENTRY, key, project))
        elif entries and key not in objects:
            found.append(Finding(Problem.ROW_WITHOUT_OBJECT, key, project, entries))
    for key, project in sorted(rows.released.items()):
        if key not in rows.young:
            found.append(Finding(Problem.RELEASED_NOT_DELETED, key, project))
    for key, (project, expires_at) in sorted(rows.uploads.items()):
        if expires_at < before:
            found.append(Finding(Problem.EXPIRED_UPLOAD, key, project))
    return found


def _original_of(variant: str) -> str:
    """`v/<original key>/<digest>.<ext>` -> the original's key."""
    return variant[len(VARIANTS) :].rpartition("/")[0]


async def confirmed(
    db: Database, storage: Storage, findings: Iterable[Finding], *, grace: dt.timedelta = GRACE
) -> list[Finding]:
    """The findings still true now, each looked at again in the database and the store."""
    before = utcnow() - grace
    return [f for f in findings if await _still_true(db, storage, f, before)]


async def _still_true(
    db: Database, storage: Storage, finding: Finding, before: dt.datetime
) -> bool:
    key = finding.key
    async with db.read() as conn:
        if finding.problem is Problem.ORPHANED_RENDITION:
            original = await conn.execute(
                sa.select(assets.c.key).where(
                    assets.c.key == _original_of(key), assets.c.released_at.is_(None)
                )
            )
            return original.first() is None and await storage.head(key) is not None
        asset = (await conn.execute(sa.select(assets).where(assets.c.key == key))).first()
        upload = (await conn.execute(sa.select(uploads).where(uploads.c.key == key))).first()
        held = await _held(conn, key)
    match finding.problem:
        case Problem.OBJECT_WITHOUT_ROW:
            return asset is None and upload is None and await storage.head(key) is not None
        case Problem.ROW_WITHOUT_OBJECT:
            return (
                asset is not None and asset.released_at is None and not await _stored(storage, key)
            )
        case Problem.ASSET_WITHOUT_ENTRY:
            return (
                asset is not None
                and asset.released_at is None
                and asset.created_at < before
                and not held
            )
        case Problem.RELEASED_NOT_DELETED:
            released = None if asset is None else asset.released_at
            return released is not None and released < before
        case Problem.EXPIRED_UPLOAD:
            return upload is not None and upload.expires_at < before


async def _stored(storage: Storage, key: str) -> bool:
    return await storage.head(key) is not None


async def _held(conn: Any, key: str) -> bool:
    """Whether an entry points at `key`, now or before."""
    kept = await conn.execute(sa.select(entry_keys.c.entry_id).where(entry_keys.c.key == key))
    return kept.first() is not None


async def repair(
    db: Database, storage: Storage, findings: Iterable[Finding], *, grace: dt.timedelta = GRACE
) -> list[Finding]:
    """Remove what the removable findings name, each confirmed once more first; the removed."""
    removed = []
    for finding in await confirmed(db, storage, [f for f in findings if f.removable], grace=grace):
        if await _remove(db, storage, finding):
            log.info("removed %s %s", finding.problem, finding.key)
            removed.append(finding)
    return removed


async def _remove(db: Database, storage: Storage, finding: Finding) -> bool:
    """Remove what the finding names; False when an entry took its key up meanwhile."""
    key = finding.key
    match finding.problem:
        case Problem.ORPHANED_RENDITION | Problem.OBJECT_WITHOUT_ROW:
            await storage.delete(key)
        case Problem.EXPIRED_UPLOAD:
            async with db.read() as conn:
                registered = (
                    await conn.execute(sa.select(assets.c.key).where(assets.c.key == key))
                ).first()
            if registered is None:  # its object is an asset's, registered after all
                await storage.delete(key)
            async with db.write() as conn:
                await conn.execute(uploads.delete().where(uploads.c.key == key))
        case Problem.ASSET_WITHOUT_ENTRY | Problem.RELEASED_NOT_DELETED:
            # As an entry's deletion does: released first (no registration takes it up in
            # between), unless an entry took it since it was confirmed; then the renditions,
            # the object and the row.
            held = sa.exists().where(entry_keys.c.key == key)
            async with db.write() as conn:
                await conn.execute(
                    assets.update()
                    .where(assets.c.key == key, assets.c.released_at.is_(None), ~held)
                    .values(released_at=utcnow())
                )
                released = await conn.scalar(
                    sa.select(assets.c.released_at).where(assets.c.key == key)
                )
            if released is None:
                return False
            for variant in await storage.list_keys(variant_prefix(key)):
                await storage.delete(variant)
            await storage.delete(key)
            async with db.write() as conn:
                await conn.execute(
                    assets.delete().where(assets.c.key == key, assets.c.released_at.is_not(None))
                )
    return True


async def sweep(db: Database, storage: Storage, *, grace: dt.timedelta) -> list[Finding]:
    """The periodic part of a repair: uploads never registered `grace` past their expiry,
    and renditions whose original is gone. Lists only the renditions, not the whole store."""
    before = utcnow() - grace
    async with db.read() as conn:
        expired = await conn.execute(
            sa.select(uploads.c.key, uploads.c.project).where(uploads.c.expires_at < before)
        )
        found = [Finding(Problem.EXPIRED_UPLOAD, key, project) for key, project in expired]
    variants = await storage.list_keys(VARIANTS)
    originals = sorted({_original_of(key) for key in variants})
    live: set[str] = set()
    async with db.read() as conn:
        for start in range(0, len(originals), BATCH):
            batch = originals[start : start + BATCH]
            rows = await conn.execute(
                sa.select(assets.c.key).where(
                    assets.c.key.in_(batch), assets.c.released_at.is_(None)
                )
            )
            live.update(rows.scalars())
    found += [
        Finding(Problem.ORPHANED_RENDITION, key)
        for key in variants
        if _original_of(key) not in live
    ]
    return await repair(db, storage, found, grace=grace)
