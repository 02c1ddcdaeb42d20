"""An editor's focal point: where the picture's subject is, placed by a person (the web view's
click on the picture). It is stored in the asset as the analysis stores its own
(`focalPoint: {x, y, source: "editor"}`, media/analysis/records.py), on the image itself or on
a video's poster, and later analyses of the entry keep it.

The write is an edit of the entry like a PATCH: the version moves on (a stale page is refused
as a stale PATCH is), `updatedAt` is now, and webhooks hear an update with the editor as its
actor. A revoked or archived entry takes it as it takes a metadata edit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from medialib.db.engine import Database, Tx
from medialib.db.tables import media_entries, utcnow
from medialib.errors import BadRequest, Conflict
from medialib.library.events import Actor, EntryEvent, record_entry_changes
from medialib.library.models import Entry
from medialib.library.projects import Project
from medialib.library.repository import entry_from_row, is_valid_entry_id, not_found
from medialib.media.analysis.records import FocalPoint, FocusSource

NO_PICTURE = "only an image, or a video with a poster frame, has a focal point"


def picture_of(asset: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The picture an asset shows, whose focal point it is: an image itself, a video's poster;
    None for anything else (a file, a video without a poster)."""
    if str(asset.get("mimeType", "")).startswith("image/"):
        return asset
    poster = asset.get("poster")
    if str(asset.get("mimeType", "")).startswith("video/") and isinstance(poster, Mapping):
        return poster if isinstance(poster.get("key"), str) else None
    return None


def editor_point(x: float, y: float) -> FocalPoint:
    """The point, checked: fractions of the displayed picture, 0 (left, top) to 1."""
    problems = {
        name: "must be a number from 0 to 1"
        for name, value in (("x", x), ("y", y))
        if not (math.isfinite(value) and 0.0 <= value <= 1.0)
    }
    if problems:
        raise BadRequest(details={f"focalPoint.{name}": said for name, said in problems.items()})
    return FocalPoint(x, y, FocusSource.EDITOR)


async def place_focal_point(
    db: Database,
    project: Project,
    entry_id: str,
    point: FocalPoint,
    actor: Actor | None = None,
    version: int | None = None,
) -> Entry:
    """Store `point` as the entry's focal point; the entry as it is then. `version`, when
    given, is the one the editor saw: another is a Conflict."""
    if not is_valid_entry_id(entry_id):
        raise not_found(entry_id)
    return await db.transact(lambda tx: _place(tx, project, entry_id, point, actor, version))


def _place(
    tx: Tx,
    project: Project,
    entry_id: str,
    point: FocalPoint,
    actor: Actor | None,
    version: int | None,
) -> Entry:
    where = sa.and_(media_entries.c.project == project.handle, media_entries.c.id == entry_id)
    query = sa.select(media_entries).where(where)
    row = tx.execute(query.with_for_update() if tx.is_postgres else query).first()
    if row is None:
        raise not_found(entry_id)
    entry = entry_from_row(row)
    if version is not None and version != entry.version:
        message = f"Version: Expected {entry.version} to be equal to {version}"
        raise Conflict(message, details={"name": "Conflict", "message": message})
    asset = _with_point(entry.asset, point)
    if asset == entry.asset:  # the same point again: nothing changes, no event
        return entry
    entry.asset, entry.version, entry.updated_at = asset, entry.version + 1, utcnow()
    tx.execute(
        media_entries.update()
        .where(where)
        .values(asset=entry.asset, version=entry.version, updated_at=entry.updated_at)
    )
    record_entry_changes(tx, project, [EntryEvent.UPDATE], [entry.id], actor)
    return entry


def _with_point(asset: dict[str, Any], point: FocalPoint) -> dict[str, Any]:
    picture = picture_of(asset)
    if picture is None:
        raise BadRequest(details={"focalPoint": NO_PICTURE})
    placed = dict(picture) | {"focalPoint": point.as_json()}
    return asset | placed if picture is asset else asset | {"poster": placed}
