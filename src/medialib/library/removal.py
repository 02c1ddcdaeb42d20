"""Deleting an entry: the row goes with its references; the objects no other entry points at are
forgotten in the same transaction and deleted from storage by a task once it is committed. An
entry that other entries' metadata names is not deleted (library/references.py)."""

from __future__ import annotations

import sqlalchemy as sa

from medialib.db.engine import Database, Tx
from medialib.db.tables import media_entries
from medialib.errors import Conflict
from medialib.library import assets, references
from medialib.library.events import Actor, EntryEvent, record_entry_events
from medialib.library.projects import Project
from medialib.library.repository import entry_from_row, is_valid_entry_id, not_found
from medialib.library.tasks import delete_objects


async def delete_entry(
    db: Database, project: Project, entry_id: str, actor: Actor | None = None
) -> None:
    """Delete the entry; a (systemName, externalId) pair it had imports as new afterwards."""
    if not is_valid_entry_id(entry_id):
        raise not_found(entry_id)

    def delete(tx: Tx) -> None:
        _delete(tx, project.handle, entry_id)
        record_entry_events(tx, project, EntryEvent.DELETE, [entry_id], actor)

    await db.transact(delete)


def _delete(tx: Tx, project: str, entry_id: str) -> None:
    where = sa.and_(media_entries.c.project == project, media_entries.c.id == entry_id)
    query = sa.select(media_entries).where(where)
    row = tx.execute(query.with_for_update() if tx.is_postgres else query).first()
    if row is None:
        raise not_found(entry_id)
    _refuse_if_named(tx, project, entry_id)
    keys = sorted(set(assets.keys_of(tx, project, entry_id) + entry_from_row(row).asset_keys()))
    tx.execute(media_entries.delete().where(where))  # its entry_keys rows go with it
    unused = assets.release(tx, project, keys)
    assets.refresh_revoked(tx, project, sorted(set(keys) - set(unused)))
    if unused:
        delete_objects.defer(tx, keys=unused)


_NAMED_SHOWN = 5


def _refuse_if_named(tx: Tx, project: str, entry_id: str) -> None:
    """An entry that other entries' metadata names stays until their references go (as the
    original refuses deleting an entry "referenced by other media library entries")."""
    naming = references.referrers(tx, project, entry_id, _NAMED_SHOWN + 1)
    if not naming:
        return
    shown = ", ".join(naming[:_NAMED_SHOWN]) + (", …" if len(naming) > _NAMED_SHOWN else "")
    message = (
        f"MediaLibrary Entry is referenced by other entries (id: '{entry_id}'): {shown}; "
        "remove their references first"
    )
    raise Conflict(message, details={"name": "Conflict", "message": message})
