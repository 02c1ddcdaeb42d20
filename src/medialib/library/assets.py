"""Assets an entry points at: their shape per media kind, their presence in storage, and the
`assets` rows that let `/media/{key}` serve them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import pydantic
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from medialib.config import MediaKind, MediaType
from medialib.db.tables import assets, utcnow
from medialib.db.upsert import insert_ignoring_conflicts
from medialib.library.models import AssetIn
from medialib.storage import Storage, is_valid_key

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
STORAGE_CHECKS_AT_ONCE = 32


def check_asset(
    raw: Any, media_type: MediaType, path: str = "asset"
) -> tuple[dict[str, Any], list[str]]:
    """The asset as stored, and a list of problems ("asset.width: Field required")."""
    try:
        asset = AssetIn.model_validate(raw)
    except pydantic.ValidationError as exc:
        return {}, [_pydantic_problem(path, err) for err in exc.errors()]
    problems = [
        f"{path}.{name}: Field required"
        for name in REQUIRED_FIELDS[media_type.kind]
        if getattr(asset, name) is None
    ]
    if not is_valid_key(asset.key):
        problems.append(
            f"{path}.key: must be a relative path of letters, digits, '.', '_', '-' and '/'"
        )
    family = _MIME_FAMILY[media_type.kind]
    if asset.mimeType and family and not asset.mimeType.startswith(family):
        problems.append(f"{path}.mimeType: must be {family}* for media type '{media_type.handle}'")
    rules = media_type.asset_rules
    if rules and rules.mimeTypes and asset.mimeType and asset.mimeType not in rules.mimeTypes:
        problems.append(
            f"{path}.mimeType: '{asset.mimeType}' is not allowed for media type "
            f"'{media_type.handle}' (allowed: {', '.join(rules.mimeTypes)})"
        )
    stored = asset.model_dump(exclude_none=True, exclude={"url"})
    return stored, problems


def _pydantic_problem(path: str, err: Any) -> str:
    where = ".".join(str(part) for part in (path, *err["loc"]))
    return f"{where}: {err['msg']}"


async def missing_objects(storage: Storage, keys: Iterable[str]) -> set[str]:
    """The keys of `keys` with no object in storage, checked a bounded number at a time."""
    gate = asyncio.Semaphore(STORAGE_CHECKS_AT_ONCE)

    async def absent(key: str) -> str | None:
        async with gate:
            return key if await storage.head(key) is None else None

    found = await asyncio.gather(*(absent(key) for key in set(keys)))
    return {key for key in found if key is not None}


async def claim_assets(
    conn: AsyncConnection, project: str, described: dict[str, dict[str, Any]]
) -> set[str]:
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
    await conn.execute(insert_ignoring_conflicts(conn, assets), rows)
    owners = await conn.execute(
        sa.select(assets.c.key).where(
            assets.c.key.in_(list(described)), assets.c.project != project
        )
    )
    return set(owners.scalars())


async def set_revoked(conn: AsyncConnection, project: str, keys: list[str], revoked: bool) -> None:
    await conn.execute(
        assets.update()
        .where(assets.c.project == project, assets.c.key.in_(keys))
        .values(revoked=revoked)
    )
