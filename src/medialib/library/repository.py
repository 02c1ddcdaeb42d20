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
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from medialib.db.engine import Tx
from medialib.db.tables import media_entries
from medialib.db.upsert import insert_ignoring_conflicts
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


@dataclass
class Imported:
    """What a URL import wants the library to hold for one (systemName, externalId): written by
    `save_imported`, which fills in the entry it became and what was done."""

    external_id: str
    media_type: str
    asset: dict[str, Any]
    metadata: dict[str, Any]
    fingerprint: str  # of what was asked: the same again is `unchanged`
    now: dt.datetime
    existing_id: str | None = None  # the entry it updates, when one was known before
    new_asset: bool = True  # the asset's object was stored for this import
    stored_here: tuple[str, ...] = ()  # the objects this import stored (deleted if unused)
    # The live entry that holds the same bytes already, and its object's key: the import keeps
    # an object (and URLs) of its own, and says whose copy it is.
    duplicate_of: str | None = field(default=None, init=False)
    same_bytes_as: str | None = field(default=None, init=False)
    # Filled in by save_imported: the entry, what was done to it, and the asset it holds now.
    media_id: str | None = field(default=None, init=False)
    action: Action | None = field(default=None, init=False)
    entry_asset: dict[str, Any] | None = field(default=None, init=False)


def save_imported(tx: Tx, project: str, system_name: str, wanted: Sequence[Imported]) -> list[str]:
    """Create and update the entries, record their new assets; returns the keys of stored
    objects nothing refers to after all (an identical concurrent import won the race)."""
    _note_known_bytes(tx, project, wanted)
    orphans: list[str] = []
    creates = [w for w in wanted if w.existing_id is None]
    if creates:
        rows = [_row(project, system_name, w) for w in creates]
        inserted = tx.execute(
            insert_ignoring_conflicts(tx.conn, media_entries, media_entries.c.id), rows
        )
        written = set(inserted.scalars())
        for imported, row in zip(creates, rows, strict=True):
            if row["id"] in written:
                imported.media_id, imported.action = row["id"], Action.CREATED
                imported.entry_asset = imported.asset
            else:
                _adopt_concurrent_entry(tx, project, system_name, imported, row, orphans)
    for imported in wanted:
        if imported.existing_id is not None:
            _update(tx, project, imported.existing_id, imported)
            imported.media_id, imported.action = imported.existing_id, Action.UPDATED
            imported.entry_asset = imported.asset
    kept: dict[str, dict[str, Any]] = {}
    taken: dict[str, list[str]] = {}
    updated: list[str] = []
    for imported in wanted:
        if imported.action == Action.UNCHANGED or imported.media_id is None:
            continue
        if imported.new_asset:
            objects = stored_objects(imported.asset)
            kept |= objects
            taken[imported.media_id] = list(objects)
            if imported.action == Action.UPDATED:
                updated += objects
    assets.claim_assets(tx, project, kept, fresh=True)  # keys its own downloads were put at
    assets.remember_keys(tx, project, taken)
    # An entry updated while revoked stays revoked: its new objects are not served either.
    assets.refresh_revoked(tx, project, updated)
    return orphans


def _note_known_bytes(tx: Tx, project: str, wanted: Sequence[Imported]) -> None:
    """Imports whose bytes the project holds already in a live entry (another id of the old
    archive) say whose copy they are. Each keeps its own object all the same: an entry's URLs
    are its own, so that revoking one entry never leaves its picture served under another's
    key, nor takes another entry's picture down with it. Looked up here, in the transaction
    that records them, rather than before storing: a read of its own per item, before, halved
    an import's throughput."""
    fresh = [w for w in wanted if w.new_asset and w.asset.get("sha256")]
    known = assets.live_objects_with(tx, project, {str(w.asset["sha256"]) for w in fresh})
    for imported in fresh:
        duplicate = known.get(str(imported.asset["sha256"]))
        if duplicate is not None and duplicate.entry_id != imported.existing_id:
            imported.duplicate_of = duplicate.entry_id
            imported.same_bytes_as = str(duplicate.asset["key"])


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
    tx: Tx,
    project: str,
    system_name: str,
    imported: Imported,
    row: dict[str, Any],
    orphans: list[str],
) -> None:
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
        row["id"] = new_entry_id()
        tx.execute(media_entries.insert().values(**row))
        imported.media_id, imported.action = row["id"], Action.CREATED
        imported.entry_asset = imported.asset
        return
    imported.media_id = current.id
    if current.import_fingerprint == imported.fingerprint:
        if imported.new_asset:
            orphans.extend(stored_objects(imported.asset))
        imported.action, imported.entry_asset = Action.UNCHANGED, current.asset
        return
    _update(tx, project, current.id, imported)
    imported.action, imported.entry_asset = Action.UPDATED, imported.asset
