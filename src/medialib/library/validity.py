"""An entry's validity: whether what its metadata says lets it be served.

Two of the original API's metadata types decide it: `li-invalid` (a checkbox; `true` says the
entry may no longer be used, for licensing reasons) and `li-datetime-validity` (`{from, to}`,
either optional: the entry may be used from `from` until `to`). An entry marked invalid, or
outside one of its windows, is *invalid*: its objects are not served, as a revoked entry's are
(`assets.refresh_revoked`), until it is valid again. `li-invalid` decides over the windows. A
window whose `from` is not before its `to` never opens (the original's docs set no rule for it;
refusing it would refuse values the original stores).

The state is stored per entry (`media_entries.invalid`) and settled in the transaction of every
write of an entry (`settle`), and by a task at each window boundary ahead (library/tasks.py),
which looks at the entry's metadata and the clock again: a task left from an earlier write finds
nothing to change. An entry whose state changes gets `mediaLibraryEntry.invalid` or `.active`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from medialib.db.engine import Tx
from medialib.db.tables import UTCDateTime, media_entries, utcnow
from medialib.library import assets
from medialib.library.events import EntryEvent
from medialib.library.metadata import ENTRY_STATE_TYPES
from medialib.library.models import stored_objects
from medialib.library.projects import MediaType, Project

MARKED_INVALID = "marked invalid"
NOT_YET_VALID = "not valid yet"
NO_LONGER_VALID = "no longer valid"
NEVER_VALID = "its validity window never opens"


@dataclass(frozen=True)
class Standing:
    """What an entry's metadata says at one moment: whether it is invalid (and why, in words),
    and the next moment, in UTC, at which the clock alone may change that."""

    invalid: bool
    reason: str | None = None
    next_change: dt.datetime | None = None


VALID = Standing(False)


def standing(
    media_type: MediaType | None, metadata: Mapping[str, Any], now: dt.datetime
) -> Standing:
    """The entry's state at `now` from its metadata (stored, so valid for its media type)."""
    if media_type is None:  # no longer configured: nothing says it is invalid
        return VALID
    properties = [p for p in media_type.schema.properties.values() if p.type in ENTRY_STATE_TYPES]
    if any(p.type == "li-invalid" and metadata.get(p.handle) is True for p in properties):
        return Standing(True, MARKED_INVALID)
    reasons: list[str] = []
    boundaries: list[dt.datetime] = []
    for prop in properties:
        window = metadata.get(prop.handle)
        if prop.type != "li-datetime-validity" or not isinstance(window, Mapping):
            continue
        opens, closes = _moment(window.get("from")), _moment(window.get("to"))
        if opens is not None and closes is not None and opens >= closes:
            reasons.append(NEVER_VALID)
            continue
        if opens is not None and now < opens:
            reasons.append(NOT_YET_VALID)
            boundaries.append(opens)
        elif closes is not None and now >= closes:
            reasons.append(NO_LONGER_VALID)
        if closes is not None and now < closes:
            boundaries.append(closes)
    ahead = [moment for moment in map(_in_utc, boundaries) if moment is not None]
    return Standing(bool(reasons), reasons[0] if reasons else None, min(ahead, default=None))


def _moment(value: Any) -> dt.datetime | None:
    """A stored ISO 8601 datetime with its offset; None when there is none (or, for a value
    stored before it was checked, none that can be read)."""
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _in_utc(moment: dt.datetime) -> dt.datetime | None:
    """The moment in UTC; None past the last moment UTC can say (9999-12-31T23:00-14:00 is
    after it), which no clock reaches."""
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:
        return None


def watches_validity(project: Project) -> bool:
    """Whether a media type of the project has a property that decides validity."""
    return any(
        p.type in ENTRY_STATE_TYPES
        for media_type in project.media_types.values()
        for p in media_type.schema.properties.values()
    )


@dataclass
class Settled:
    """What settling some entries changed: the entries that became invalid or valid again, and
    the boundaries ahead at which a task must look at some of them again (in UTC)."""

    now: dt.datetime
    became_invalid: list[str] = field(default_factory=list)
    became_active: list[str] = field(default_factory=list)
    checks: dict[dt.datetime, list[str]] = field(default_factory=dict)

    def events(self) -> list[tuple[EntryEvent, list[str]]]:
        """The state events to record, each with its entries."""
        found = ((EntryEvent.INVALID, self.became_invalid), (EntryEvent.ACTIVE, self.became_active))
        return [(event, ids) for event, ids in found if ids]

    def events_of(self, entry_id: str) -> list[EntryEvent]:
        return [event for event, ids in self.events() if entry_id in ids]


_SETTLE = (
    media_entries.update()
    .where(
        media_entries.c.project == sa.bindparam("_project"),
        media_entries.c.id == sa.bindparam("_id"),
    )
    .values(
        invalid=sa.bindparam("_invalid", type_=sa.Boolean()),
        validity_check_at=sa.bindparam("_check_at", type_=UTCDateTime()),
    )
)


def settle(
    tx: Tx,
    project: Project,
    entry_ids: Collection[str],
    *,
    ran_for: dt.datetime | None = None,
) -> Settled:
    """Store each entry's state as its metadata says it now, withhold or serve its objects
    again when that changed, and say which boundaries ahead need a look (a boundary is looked
    at once: a write that keeps it asks for no second look; `ran_for` is the boundary of the
    task settling them, which may have run before its time and must then look again).

    Entries of projects whose media types have no validity properties are read only when they
    were invalid or awaited a boundary (a property since removed from the config)."""
    settled = Settled(utcnow())
    if not entry_ids:
        return settled
    entries = media_entries.c
    query = (
        sa.select(
            entries.id,
            entries.media_type,
            entries.metadata,
            entries.asset,
            entries.translations,
            entries.invalid,
            entries.validity_check_at,
        )
        .where(entries.project == project.handle, entries.id.in_(sorted(set(entry_ids))))
        .order_by(entries.id)
    )
    if not watches_validity(project):
        awaited = entries.validity_check_at.is_not(None)
        query = query.where(sa.or_(entries.invalid.is_(True), awaited))
    rows = tx.execute(query.with_for_update() if tx.is_postgres else query).all()
    updates: list[dict[str, Any]] = []
    changed_keys: set[str] = set()
    for row in rows:
        found = standing(project.media_types.get(row.media_type), row.metadata, settled.now)
        ahead = found.next_change
        if ahead is not None and (ahead != row.validity_check_at or ran_for == ahead):
            settled.checks.setdefault(ahead, []).append(row.id)
        if found.invalid != row.invalid:
            (settled.became_invalid if found.invalid else settled.became_active).append(row.id)
            changed_keys |= set(assets.keys_of(tx, project.handle, row.id))
            changed_keys |= _asset_keys(row.asset, row.translations)
        if found.invalid != row.invalid or ahead != row.validity_check_at:
            updates.append(
                {
                    "_project": project.handle,
                    "_id": row.id,
                    "_invalid": found.invalid,
                    "_check_at": ahead,
                }
            )
    if updates:
        tx.execute(_SETTLE, updates)
    assets.refresh_revoked(tx, project.handle, sorted(changed_keys))
    return settled


def _asset_keys(asset: dict[str, Any], translations: list[dict[str, Any]]) -> set[str]:
    held = [asset] + [t["asset"] for t in translations if t.get("asset")]
    return {key for one in held for key in stored_objects(one)}
