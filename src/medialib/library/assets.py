"""Assets an entry points at: their shape per media kind, their presence in storage, and the
`assets` rows that let `/media/{key}` serve them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pydantic
import sqlalchemy as sa

from medialib.db.engine import Database, Tx
from medialib.db.tables import assets, entry_keys, utcnow
from medialib.db.upsert import insert_ignoring_conflicts
from medialib.errors import Forbidden, NotFound, field_problems
from medialib.library.models import AssetIn
from medialib.library.projects import MediaKind, MediaType
from medialib.media.storage import is_valid_key

# Fields each kind of media needs to be shown and served (the original API's import schema;
# `url` is not among them because medialib derives URLs from the key).
REQUIRED_FIELDS: dict[MediaKind, tuple[str, ...]] = {
    "mediaImage": ("key", "size", "width", "height", "mimeType", "filename"),
    "mediaVideo": ("key", "size", "width", "height", "duration", "mimeType", "filename"),
    "mediaFile": ("key", "size", "mimeType", "filename"),
}
_MIME_FAMILY: dict[MediaKind, str | None] = {
    "mediaImage": "image/",
    "mediaVideo": "video/",
    "mediaFile": None,
}


def check_asset(
    raw: Any, media_type: MediaType, path: str = "asset"
) -> tuple[dict[str, Any], dict[str, str]]:
    """The asset as stored, and its problems by field path ("asset.width": "Field required")."""
    try:
        asset = AssetIn.model_validate(raw)
    except pydantic.ValidationError as exc:
        return {}, field_problems(exc, prefix=(path,))
    assert isinstance(raw, dict)  # AssetIn accepted it
    problems = {
        f"{path}.{name}": "Field required"
        for name in REQUIRED_FIELDS[media_type.kind]
        if getattr(asset, name) is None
    }
    if not is_valid_key(asset.key):
        problems[f"{path}.key"] = (
            "must be a relative path of letters, digits, '.', '_', '-' and '/'"
        )
    family = _MIME_FAMILY[media_type.kind]
    if asset.mimeType and family and not asset.mimeType.startswith(family):
        problems[f"{path}.mimeType"] = f"must be {family}* for media type '{media_type.handle}'"
    largest = media_type.asset_rules.max_size
    if largest and asset.size and asset.size > largest:
        problems[f"{path}.size"] = (
            f"{asset.size} bytes is more than media type '{media_type.handle}' takes ({largest})"
        )
    allowed = media_type.asset_rules.mime_types
    if allowed and asset.mimeType and asset.mimeType not in allowed:
        problems[f"{path}.mimeType"] = (
            f"'{asset.mimeType}' is not allowed for media type "
            f"'{media_type.handle}' (allowed: {', '.join(allowed)})"
        )
    if asset.poster is not None:
        if media_type.kind != "mediaVideo":
            problems[f"{path}.poster"] = "only a video's asset has a poster"
        elif not is_valid_key(asset.poster.key):
            problems[f"{path}.poster.key"] = "must be a relative path like the asset's key"
    # Strict types and no extra fields: what was accepted is what is stored (minus the URLs,
    # which medialib derives from the keys).
    stored = {
        name: value
        for name, value in raw.items()
        if value is not None and name not in ("url", "originalUrl")
    }
    if asset.poster is not None:
        stored["poster"] = asset.poster.model_dump(exclude={"url", "originalUrl"})
    return stored, problems


def claim_assets(tx: Tx, project: str, described: dict[str, dict[str, Any]]) -> set[str]:
    """Record the assets (key -> asset) for `project`; returns the keys another project holds."""
    if not described:
        return set()
    now = utcnow()
    rows = [
        {
            "key": key,
            "project": project,
            "mime_type": asset.get("mimeType") or "application/octet-stream",
            "size": asset.get("size"),
            "sha256": asset.get("sha256"),
            "revoked": False,
            "created_at": now,
        }
        for key, asset in described.items()
    ]
    inserted = tx.execute(insert_ignoring_conflicts(tx.conn, assets).returning(assets.c.key), rows)
    known = set(described) - set(inserted.scalars())
    if not known:
        return set()
    owners = tx.execute(
        sa.select(assets.c.key).where(assets.c.key.in_(list(known)), assets.c.project != project)
    )
    return set(owners.scalars())


def remember_keys(tx: Tx, project: str, keys_by_entry: dict[str, list[str]]) -> None:
    """Note which keys each entry now points at; a key once noted stays in its history."""
    now = utcnow()
    rows = [
        {"project": project, "entry_id": entry_id, "key": key, "created_at": now}
        for entry_id, keys in keys_by_entry.items()
        for key in dict.fromkeys(keys)
    ]
    if rows:
        tx.execute(insert_ignoring_conflicts(tx.conn, entry_keys), rows)


async def keys_ever_used(db: Database, project: str, entry_id: str) -> list[str]:
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(entry_keys.c.key)
            .where(entry_keys.c.project == project, entry_keys.c.entry_id == entry_id)
            .order_by(entry_keys.c.created_at, entry_keys.c.key)
        )
        return list(rows.scalars())


def set_revoked(tx: Tx, project: str, keys: list[str], revoked: bool) -> None:
    tx.execute(
        assets.update()
        .where(assets.c.project == project, assets.c.key.in_(keys))
        .values(revoked=revoked)
    )


@dataclass(frozen=True)
class StoredAsset:
    key: str
    project: str
    mime_type: str
    revoked: bool


async def stored_asset(db: Database, key: str) -> StoredAsset | None:
    """What the library knows of the object at `key`; None for a key it does not know."""
    if not is_valid_key(key):
        return None
    row = await db.first(
        sa.select(assets.c.project, assets.c.mime_type, assets.c.revoked).where(assets.c.key == key)
    )
    if row is None:
        return None
    return StoredAsset(key, row.project, str(row.mime_type), bool(row.revoked))


async def servable(db: Database, key: str) -> str:
    """The type of the asset at `key` if it may be served: only keys the library knows, never
    while their entry is revoked."""
    asset = await stored_asset(db, key)
    if asset is None:
        raise NotFound(details={"message": "No asset found."})
    if asset.revoked:
        raise Forbidden(details={"message": "The requested asset is revoked."})
    return asset.mime_type
