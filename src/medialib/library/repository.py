"""The rows of the library: one builder for a new entry's row (both imports use it), reads by id
and by (systemName, externalId), and the writes of URL imports: new entries, updates, and
adopting an entry that a concurrent import created first.
"""

from __future__ import annotations

import datetime as dt
import enum
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from medialib.db.engine import Tx
from medialib.db.search_index import index_new_entries
from medialib.db.tables import media_entries
from medialib.db.upsert import insert_ignoring_conflicts
from medialib.errors import NotFound
from medialib.library import assets
from medialib.library.models import Entry, stored_objects

_ID_ALPHABET = string.ascii_letters + string.digits


class Action(enum.StrEnum):
    """What an import did to the library for one item."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


def new_entry_id() -> str:
    """12 random letters and digits (71 bits), inside the id alphabet callers may use too."""
    # One read of 128 random bits rather than one per letter (secrets.choice asks the kernel
    # each time); 128 bits leave no bias worth naming in 12 base-62 digits.
    number = int.from_bytes(secrets.token_bytes(16), "big")
    letters = []
    for _ in range(12):
        number, digit = divmod(number, len(_ID_ALPHABET))
        letters.append(_ID_ALPHABET[digit])
    return "".join(letters)


def is_valid_entry_id(entry_id: str) -> bool:
    return 1 <= len(entry_id) <= 32 and all(ch in _ID_ALPHABET or ch == "-" for ch in entry_id)


def not_found(entry_id: str) -> NotFound:
    """The 404 of an entry the project does not have (another project's is as missing)."""
    shown = entry_id if len(entry_id) <= 64 else entry_id[:64] + "…"
    message = f"MediaLibrary Entry does not exist (id: '{shown}')"
    return NotFound(message, details={"name": "NotFound", "message": message})


def entry_row(
    *,
    project: str,
    media_type: str,
    asset: dict[str, Any],
    metadata: dict[str, Any],
    now: dt.datetime,
    entry_id: str | None = None,
    system_name: str | None = None,
    external_id: str | None = None,
    translations: list[dict[str, Any]] | None = None,
    fingerprint: str | None = None,
) -> dict[str, Any]:
    """A new entry's row, version 1, as every import writes it."""
    return {
        "project": project,
        "id": entry_id or new_entry_id(),
        "media_type": media_type,
        "system_name": system_name,
        "external_id": external_id,
        "asset": asset,
        "metadata": metadata,
        "translations": translations or [],
        "version": 1,
        "archived": False,
        "revoked": False,
        "revoke_note": None,
        "created_at": now,
        "updated_at": now,
        "import_fingerprint": fingerprint,
    }


def entry_from_row(row: Any) -> Entry:
    return Entry(**{column.name: row._mapping[column.name] for column in media_entries.columns})


async def entries_by_external_id(
    conn: AsyncConnection, project: str, system_name: str, external_ids: Sequence[str]
) -> dict[str, Entry]:
    rows = await conn.execute(
        sa.select(media_entries).where(
            media_entries.c.project == project,
            media_entries.c.system_name == system_name,
            media_entries.c.external_id.in_(list(external_ids)),
        )
    )
    return {row.external_id: entry_from_row(row) for row in rows.all()}


@dataclass(frozen=True)
class Imported:
    """What a URL import wants the library to hold for one (systemName, externalId)."""

    external_id: str
    media_type: str
    asset: dict[str, Any]
    metadata: dict[str, Any]
    fingerprint: str  # of what was asked: the same again is `unchanged`
    now: dt.datetime
    existing_id: str | None = None  # the entry it updates, when one was known before
    new_asset: bool = True  # the asset's object was stored for this import
    stored_here: tuple[str, ...] = ()  # the objects this import stored (deleted if unused)


@dataclass(frozen=True)
class Saved:
    """What the library made of an `Imported`: the entry, what was done to it, and the asset it
    holds now. When the project held the same bytes already in another live entry, that entry
    and its object's key: the import keeps an object (and URLs) of its own, and says whose copy
    it is."""

    imported: Imported
    media_id: str
    action: Action
    asset: dict[str, Any]
    duplicate_of: str | None = None
    same_bytes_as: str | None = None


@dataclass(frozen=True)
class SaveResult:
    saved: list[Saved]  # one per `Imported`, in order
    orphans: list[str]  # stored objects nothing refers to after all


def save_imported(tx: Tx, project: str, system_name: str, wanted: Sequence[Imported]) -> SaveResult:
    """Create and update the entries, record their new assets. An identical concurrent import
    that won the race leaves this one's stored objects orphaned."""
    duplicates = _known_bytes(tx, project, wanted)
    orphans: list[str] = []
    saved: dict[int, Saved] = {}
    creates = [(i, w) for i, w in enumerate(wanted) if w.existing_id is None]
    if creates:
        rows = [_row(project, system_name, w) for _, w in creates]
        inserted = tx.execute(
            insert_ignoring_conflicts(tx.conn, media_entries, media_entries.c.id), rows
        )
        written = set(inserted.scalars())
        index_new_entries(tx)
        for (i, imported), row in zip(creates, rows, strict=True):
            if row["id"] in written:
                saved[i] = Saved(imported, row["id"], Action.CREATED, imported.asset)
            else:
                saved[i] = _adopt_concurrent_entry(tx, project, system_name, imported, row)
                if saved[i].action == Action.UNCHANGED and imported.new_asset:
                    orphans.extend(stored_objects(imported.asset))
    for i, imported in enumerate(wanted):
        if imported.existing_id is not None:
            _update(tx, project, imported.existing_id, imported)
            saved[i] = Saved(imported, imported.existing_id, Action.UPDATED, imported.asset)
    result = [_with_duplicate(saved[i], duplicates.get(i)) for i in range(len(wanted))]
    _record_assets(tx, project, result)
    return SaveResult(result, orphans)


def _with_duplicate(saved: Saved, duplicate: tuple[str, str] | None) -> Saved:
    if duplicate is None or saved.action == Action.UNCHANGED:
        return saved
    entry_id, key = duplicate
    return replace(saved, duplicate_of=entry_id, same_bytes_as=key)


def _record_assets(tx: Tx, project: str, saved: list[Saved]) -> None:
    """The keys the imports' own downloads were put at become the project's, and each entry's."""
    kept: dict[str, dict[str, Any]] = {}
    taken: dict[str, list[str]] = {}
    updated: list[str] = []
    for one in saved:
        if one.action == Action.UNCHANGED or not one.imported.new_asset:
            continue
        objects = stored_objects(one.imported.asset)
        kept |= objects
        taken[one.media_id] = list(objects)
        if one.action == Action.UPDATED:
            updated += objects
    assets.claim_assets(tx, project, kept, fresh=True)
    assets.remember_keys(tx, project, taken)
    # An entry updated while revoked stays revoked: its new objects are not served either.
    assets.refresh_revoked(tx, project, updated)


def _known_bytes(tx: Tx, project: str, wanted: Sequence[Imported]) -> dict[int, tuple[str, str]]:
    """Imports whose bytes the project holds already in a live entry (another id of the old
    archive), by their place in `wanted`: that entry and its object's key. Each import keeps
    its own object all the same: an entry's URLs are its own, so that revoking one entry never
    leaves its picture served under another's key, nor takes another entry's picture down with
    it. Looked up here, in the transaction that records them, rather than before storing: a
    read of its own per item, before, halved an import's throughput."""
    fresh = {i: w for i, w in enumerate(wanted) if w.new_asset and w.asset.get("sha256")}
    known = assets.live_objects_with(tx, project, {str(w.asset["sha256"]) for w in fresh.values()})
    found: dict[int, tuple[str, str]] = {}
    for i, imported in fresh.items():
        duplicate = known.get(str(imported.asset["sha256"]))
        if duplicate is not None and duplicate.entry_id != imported.existing_id:
            found[i] = (duplicate.entry_id, str(duplicate.asset["key"]))
    return found


def _row(project: str, system_name: str, imported: Imported) -> dict[str, Any]:
    return entry_row(
        project=project,
        media_type=imported.media_type,
        asset=imported.asset,
        metadata=imported.metadata,
        now=imported.now,
        system_name=system_name,
        external_id=imported.external_id,
        fingerprint=imported.fingerprint,
    )


def _update(tx: Tx, project: str, entry_id: str, imported: Imported) -> None:
    tx.execute(
        media_entries.update()
        .where(media_entries.c.project == project, media_entries.c.id == entry_id)
        .values(
            version=media_entries.c.version + 1,
            asset=imported.asset,
            metadata=imported.metadata,
            updated_at=imported.now,
            import_fingerprint=imported.fingerprint,
        )
    )


def _adopt_concurrent_entry(
    tx: Tx, project: str, system_name: str, imported: Imported, row: dict[str, Any]
) -> Saved:
    """Another import created this (systemName, externalId) while we worked: ours becomes an
    update of that entry, or nothing when it asked for exactly the same."""
    current = tx.execute(
        sa.select(media_entries).where(
            media_entries.c.project == project,
            media_entries.c.system_name == system_name,
            media_entries.c.external_id == imported.external_id,
        )
    ).first()
    if current is None:  # the conflict was on the random id: try once more with another
        entry_id = new_entry_id()
        tx.execute(media_entries.insert().values(**(row | {"id": entry_id})))
        index_new_entries(tx)
        return Saved(imported, entry_id, Action.CREATED, imported.asset)
    if current.import_fingerprint == imported.fingerprint:
        return Saved(imported, current.id, Action.UNCHANGED, current.asset)
    _update(tx, project, current.id, imported)
    return Saved(imported, current.id, Action.UPDATED, imported.asset)
