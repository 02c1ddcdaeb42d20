"""Assets an entry points at: their shape per media kind, their presence in storage, and the
`assets` rows that let `/media/{key}` serve them."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pydantic
import sqlalchemy as sa

from medialib.db.engine import Database, Lookup, Tx
from medialib.db.tables import assets, entry_keys, media_entries, uploads, utcnow
from medialib.db.upsert import insert_ignoring_conflicts
from medialib.errors import Forbidden, NotFound, field_problems
from medialib.library.media_kinds import MEDIA_KINDS
from medialib.library.models import READ_ONLY_ASSET_FIELDS, AssetIn
from medialib.library.projects import MediaType
from medialib.media.probe.facts import Facts, is_page_type, read_facts, with_svgs_checked
from medialib.media.storage import Head, Storage, is_valid_key


def check_asset(
    raw: Any, media_type: MediaType, path: str = "asset"
) -> tuple[dict[str, Any], dict[str, str]]:
    """The asset as stored, and its problems by field path ("asset.width": "Field required")."""
    try:
        asset = AssetIn.model_validate(raw)
    except pydantic.ValidationError as exc:
        return {}, field_problems(exc, prefix=(path,))
    assert isinstance(raw, dict)  # AssetIn accepted it
    kind = MEDIA_KINDS[media_type.kind]
    problems = {
        f"{path}.{name}": "Field required" for name in kind.required if getattr(asset, name) is None
    }
    if problem := key_problem(asset.key):
        problems[f"{path}.key"] = problem
    if asset.mimeType and not kind.takes_type(asset.mimeType):
        problems[f"{path}.mimeType"] = (
            f"must be {kind.mime_family}* for media type '{media_type.handle}'"
        )
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
        if not kind.has_poster:
            problems[f"{path}.poster"] = "only a video's asset has a poster"
        elif problem := key_problem(asset.poster.key):
            problems[f"{path}.poster.key"] = problem
    # Strict types and no extra fields: what was accepted is what is stored, minus what is
    # medialib's to know (the URLs it derives from the keys, the facts it reads itself: see
    # READ_ONLY_ASSET_FIELDS). A sha256 is kept only once checked (`sha256_problems`).
    stored = {
        name: value
        for name, value in raw.items()
        if value is not None and name not in READ_ONLY_ASSET_FIELDS and name != "shared"
    }
    if asset.poster is not None:
        stored["poster"] = asset.poster.model_dump(exclude=set(READ_ONLY_ASSET_FIELDS))
    return stored, problems


def claimed_sha256(raw: Any) -> str | None:
    """The sha256 an asset as the caller sent it says its object has (checked by `AssetIn`)."""
    found = raw.get("sha256") if isinstance(raw, dict) else None
    return found if isinstance(found, str) else None


HASHES_AT_ONCE = 4  # objects read whole at once to check what an asset says of their sha256


async def sha256_of(
    db: Database, storage: Storage, project: str, keys: Iterable[str]
) -> dict[str, str | None]:
    """The sha256 of each object (None: no object): medialib's record of it when it has one
    (a URL import's, or one checked before), else its bytes read whole, streamed."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(assets.c.key, assets.c.sha256).where(
                assets.c.project == project,
                assets.c.key.in_(wanted),
                assets.c.released_at.is_(None),
                assets.c.sha256.is_not(None),
            )
        )
        found: dict[str, str | None] = {row.key: str(row.sha256) for row in rows}
    gate = asyncio.Semaphore(HASHES_AT_ONCE)

    async def hashed(key: str) -> str | None:
        async with gate:
            body = await storage.get(key)
            if body is None:
                return None
            digest = hashlib.sha256()
            async for chunk in body.chunks:
                digest.update(chunk)
            return digest.hexdigest()

    unknown = [key for key in wanted if key not in found]
    found |= dict(zip(unknown, await asyncio.gather(*(hashed(k) for k in unknown)), strict=True))
    return found


def sha256_problem(claimed: str, actual: str | None) -> str | None:
    """What is wrong with an asset's sha256, given its object's; None when it is the object's."""
    if actual is None:
        return "cannot be checked: the object is gone"
    if claimed != actual:
        return f"is {claimed}, but the stored object's bytes have sha256 {actual}"
    return None


def key_problem(key: str) -> str | None:
    """Why no asset may be registered at `key`; None when one may. Renditions are medialib's
    own objects, kept under `v/`: whoever could register one could serve anything under an
    original's name, as immutable."""
    if not is_valid_key(key):
        return "must be a relative path of letters, digits, '.', '_', '-' and '/'"
    if key.startswith(VARIANTS):
        return f"is under '{VARIANTS}', where medialib keeps renditions: no asset can be there"
    return None


FACT_BYTES = 64 * 1024  # an image's header is nearly always in these
MORE_FACT_BYTES = 1024 * 1024  # large EXIF and ICC blocks before a JPEG's frame header


async def facts_of(storage: Storage, keys: Iterable[str]) -> dict[str, Facts | None]:
    """What each stored object is (None: no object), from a ranged read of its first bytes;
    an SVG is read whole and checked as a URL import checks it."""
    facts = await storage.first_bytes(keys, FACT_BYTES, _facts)
    unsure = [k for k, f in facts.items() if f and f.needs_header]
    if unsure:
        facts |= await storage.first_bytes(unsure, MORE_FACT_BYTES, _facts)
    return await with_svgs_checked(storage, facts)


def _facts(head: Head) -> Facts:
    return read_facts(head.size, head.data)


def fact_problems(asset: dict[str, Any], facts: Facts, path: str) -> dict[str, str]:
    """Where what an asset says differs from its stored object, by field path, with both
    values: its size always; its type for images (exactly) and videos (a video at all); an
    image's dimensions when its header tells them (an SVG's when it is checked). And what a URL
    import refuses: an SVG that is not safe to serve, an HTML page, whatever type it says."""
    problems: dict[str, str] = {}
    if facts.refusal is not None:  # what a URL import refuses (an unsafe SVG, an HTML page)
        refusal = facts.refusal
        problems[f"{path}.key"] = f"is refused ({refusal.code}): {refusal.reason}"
    size = asset.get("size")
    if size is not None and size != facts.size:
        problems[f"{path}.size"] = f"is {size}, but the stored object has {facts.size} bytes"
    said = str(asset.get("mimeType") or "")
    image = said.lower().startswith("image/")  # a type's case says nothing to a browser
    if is_page_type(said):
        problems[f"{path}.mimeType"] = f"is {said}: a page is not an asset medialib serves"
    if image and said.lower() != facts.mime:
        problems[f"{path}.mimeType"] = f"is {said}, but the stored bytes are {facts.mime}"
    if said.startswith("video/") and not facts.is_video:
        problems[f"{path}.mimeType"] = f"is {said}, but the stored bytes are {facts.mime}"
    told = (asset.get("width"), asset.get("height"))
    if image and facts.width and facts.height and all(told):
        upright = (facts.width, facts.height)
        if told != upright and not (facts.turned and told == upright[::-1]):
            problems[f"{path}.width"] = (
                f"{told[0]}x{told[1]} is not the stored image's {facts.width}x{facts.height}"
            )
    return problems


def asset_paths(asset: dict[str, Any], translations: list[dict[str, Any]]) -> dict[str, str]:
    """Where each key of an entry stands in a request, for naming what is wrong with it."""
    paths: dict[str, str] = {}
    placed = [("asset", asset)] + [
        (f"translations.{i}.asset", t["asset"])
        for i, t in enumerate(translations)
        if t.get("asset")
    ]
    for path, one in placed:
        if not one:
            continue
        paths.setdefault(one["key"], path)
        if one.get("poster"):
            paths.setdefault(one["poster"]["key"], f"{path}.poster")
    return paths


async def not_takeable(db: Database, project: str, keys: Iterable[str]) -> set[str]:
    """The keys of `keys` that `project` may not take (as `claim_assets` will refuse them),
    known before anything is read of their objects: no project learns the size, type or even
    the existence of another's objects from what a registration says of them."""
    wanted = sorted(set(keys))
    if not wanted:
        return set()
    not_mine = sa.or_(assets.c.project != project, assets.c.released_at.is_not(None))
    async with db.read() as conn:
        held = await conn.execute(sa.select(assets.c.key).where(assets.c.key.in_(wanted), not_mine))
        pending = await conn.execute(
            sa.select(uploads.c.key).where(uploads.c.key.in_(wanted), uploads.c.project != project)
        )
        return set(held.scalars()) | set(pending.scalars())


def claim_assets(
    tx: Tx, project: str, described: dict[str, dict[str, Any]], *, fresh: bool = False
) -> set[str]:
    """Record the assets (key -> asset) for `project`; returns the keys it may not take: another
    project's asset or upload not registered yet, and any object let go of whose bytes are
    being deleted. An upload of `project`'s own is registered now: no longer pending. `fresh`
    keys were made by the caller itself (a URL import's): no upload can be at them."""
    if not described:
        return set()
    keys = list(described)
    theirs: set[str] = set()
    if not fresh:
        pending = uploads.c.key.in_(keys)
        theirs = set(
            tx.execute(
                sa.select(uploads.c.key).where(pending, uploads.c.project != project)
            ).scalars()
        )
        tx.execute(uploads.delete().where(pending, uploads.c.project == project))
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
        if key not in theirs
    ]
    if not rows:
        return theirs
    inserted = tx.execute(insert_ignoring_conflicts(tx.conn, assets, assets.c.key), rows)
    known = set(described) - theirs - set(inserted.scalars())
    if not known:
        return theirs
    not_mine = sa.or_(assets.c.project != project, assets.c.released_at.is_not(None))
    owners = tx.execute(sa.select(assets.c.key).where(assets.c.key.in_(list(known)), not_mine))
    return theirs | set(owners.scalars())


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


VARIANTS = "v/"  # renditions are stored under here (variant_prefix)


def variant_prefix(key: str) -> str:
    """Where the renditions of the object at `key` are stored."""
    return f"{VARIANTS}{key}"


def shares_on_purpose(raw: Any) -> bool:
    """Whether an asset as the caller sent it says its key may be another entry's too."""
    return isinstance(raw, dict) and raw.get("shared") is True


def shared_key_problem(key: str, holder: str) -> str:
    return (
        f"'{key}' is the object of entry '{holder}'; an entry shares another's object only "
        'when its asset says "shared": true'
    )


def keys_of(tx: Tx, project: str, entry_id: str) -> list[str]:
    """Every key the entry has pointed at."""
    rows = tx.execute(
        sa.select(entry_keys.c.key).where(
            entry_keys.c.project == project, entry_keys.c.entry_id == entry_id
        )
    )
    return list(rows.scalars())


def holders(tx: Tx, project: str, keys: list[str]) -> dict[str, set[str]]:
    """The entries that have pointed at each of `keys`."""
    held: dict[str, set[str]] = {}
    if not keys:
        return held
    rows = tx.execute(
        sa.select(entry_keys.c.key, entry_keys.c.entry_id).where(
            entry_keys.c.project == project, entry_keys.c.key.in_(keys)
        )
    )
    for row in rows:
        held.setdefault(row.key, set()).add(row.entry_id)
    return held


def refresh_revoked(tx: Tx, project: str, keys: list[str]) -> None:
    """Revocation belongs to entries, and a revoked entry's URLs stop, all of them: an object
    is revoked (not served) while any entry that has pointed at it is revoked, or invalid for
    what its metadata says (library/validity.py). Only objects shared on purpose
    (`"shared": true`) have more than one entry, and revoking either says so
    (`sharing_entries`)."""
    if not keys:
        return
    revoked_holder = (
        sa.select(1)
        .select_from(entry_keys.join(media_entries, _entry_of_key))
        .where(
            entry_keys.c.project == assets.c.project,
            entry_keys.c.key == assets.c.key,
            sa.or_(media_entries.c.revoked.is_(True), media_entries.c.invalid.is_(True)),
        )
        .exists()
    )
    tx.execute(
        assets.update()
        .where(assets.c.project == project, assets.c.key.in_(keys))
        .values(revoked=revoked_holder)
    )


def sharing_entries(tx: Tx, project: str, entry_id: str) -> dict[str, list[str]]:
    """The other entries that have pointed at each object the entry has: what revoking it
    takes down with it (or what keeps its objects down after an unrevoke)."""
    return _by_key(tx.execute(_sharing(project, entry_id)))


async def shared_objects(db: Database, project: str, entry_id: str) -> dict[str, list[str]]:
    """`sharing_entries`, read on its own (the web view's entry page says so)."""
    async with db.read() as conn:
        return _by_key(await conn.execute(_sharing(project, entry_id)))


def _sharing(project: str, entry_id: str) -> sa.Select[Any]:
    mine = sa.select(entry_keys.c.key).where(
        entry_keys.c.project == project, entry_keys.c.entry_id == entry_id
    )
    return (
        sa.select(entry_keys.c.key, entry_keys.c.entry_id)
        .where(
            entry_keys.c.project == project,
            entry_keys.c.key.in_(mine),
            entry_keys.c.entry_id != entry_id,
        )
        .order_by(entry_keys.c.key, entry_keys.c.entry_id)
    )


def _by_key(rows: Iterable[Any]) -> dict[str, list[str]]:
    shared: dict[str, list[str]] = {}
    for row in rows:
        shared.setdefault(row.key, []).append(row.entry_id)
    return shared


_entry_of_key = sa.and_(
    media_entries.c.project == entry_keys.c.project, media_entries.c.id == entry_keys.c.entry_id
)


def lock_objects(tx: Tx, project: str, keys: list[str]) -> set[str]:
    """The keys of `keys` that `project` still has an object row for, locked until the
    transaction ends on PostgreSQL (SQLite runs one writer at a time). Whoever releases an
    object and whoever takes up an existing one lock it first, so an object is never deleted
    under an entry that has just started to share it."""
    if not keys:
        return set()
    query = sa.select(assets.c.key).where(assets.c.project == project, assets.c.key.in_(keys))
    return set(tx.execute(query.with_for_update() if tx.is_postgres else query).scalars())


def release(tx: Tx, project: str, keys: list[str]) -> list[str]:
    """Let go of the objects of `keys` that no entry points at any more; returns them, for
    deleting from storage once the transaction is committed."""
    if not keys:
        return []
    lock_objects(tx, project, keys)
    held = holders(tx, project, keys)
    unheld = sorted(set(keys) - set(held))
    if unheld:
        # Not forgotten yet: the rows stay the project's until the bytes are gone (library
        # tasks), or another project could register the key meanwhile and serve them again.
        tx.execute(
            assets.update()
            .where(assets.c.project == project, assets.c.key.in_(unheld))
            .values(released_at=utcnow())
        )
    return unheld


@dataclass(frozen=True)
class Duplicate:
    """An entry whose asset already holds some bytes."""

    entry_id: str
    asset: dict[str, Any]


def live_objects_with(tx: Tx, project: str, hashes: set[str]) -> dict[str, Duplicate]:
    """For each sha256 of `hashes` the project already stores, the oldest live entry whose
    asset is that object. Revoked entries are not offered: sharing their object would serve
    it again.

    Two index lookups, not one join: the planner, left to order the whole library by age
    before it finds the bytes, took tens of seconds a lookup on freshly filled tables."""
    if not hashes:
        return {}
    held = tx.execute(
        sa.select(assets.c.key, assets.c.sha256).where(
            assets.c.project == project,
            assets.c.sha256.in_(sorted(hashes)),
            assets.c.released_at.is_(None),
        )
    ).all()
    if not held:  # new bytes: the usual case, one index probe
        return {}
    sha_of = {row.key: row.sha256 for row in held}
    rows = tx.execute(
        sa.select(entry_keys.c.key, media_entries.c.id, media_entries.c.asset)
        .select_from(entry_keys.join(media_entries, _entry_of_key))
        .where(
            entry_keys.c.project == project,
            entry_keys.c.key.in_(sorted(sha_of)),
            media_entries.c.revoked.is_(False),
        )
        .order_by(media_entries.c.created_at, media_entries.c.id)
    ).all()
    found: dict[str, Duplicate] = {}
    for row in rows:
        if row.asset.get("key") == row.key:  # the entry's asset now, not one it replaced
            found.setdefault(sha_of[row.key], Duplicate(row.id, row.asset))
    return found


@dataclass(frozen=True)
class StoredAsset:
    key: str
    project: str
    mime_type: str
    revoked: bool


# Read for every original and every rendition served: a lookup (db/engine.py), the cheapest
# read there is.
_STORED_ASSET = Lookup(
    sa.select(assets.c.project, assets.c.mime_type, assets.c.revoked).where(
        assets.c.key == sa.bindparam("key"), assets.c.released_at.is_(None)
    )
)


async def stored_asset(db: Database, key: str) -> StoredAsset | None:
    """What the library knows of the object at `key`; None for a key it does not know."""
    if not is_valid_key(key):
        return None
    row = await db.lookup(_STORED_ASSET, {"key": key})
    if row is None:
        return None
    project, mime_type, revoked = row
    return StoredAsset(key, str(project), str(mime_type), bool(revoked))


async def servable(db: Database, key: str) -> str:
    """The type of the asset at `key` if it may be served: only keys the library knows, never
    while their entry is revoked or invalid."""
    return (await servable_asset(db, key)).mime_type


async def servable_asset(db: Database, key: str) -> StoredAsset:
    """What the library knows of the object at `key` if it may be served (see `servable`)."""
    asset = await stored_asset(db, key)
    if asset is None:
        raise NotFound(details={"message": "No asset found."})
    if asset.revoked:
        raise Forbidden(details={"message": "The requested asset is revoked or marked as invalid."})
    return asset


# The entries an object's description is looked for in, oldest first: an object is shared by a
# few entries at most, and entry_keys also names those that held it once.
_HOLDERS_READ = 20
_HOLDERS = (
    sa.select(media_entries.c.asset, media_entries.c.translations)
    .select_from(entry_keys.join(media_entries, _entry_of_key))
    .where(
        entry_keys.c.project == sa.bindparam("project"),
        entry_keys.c.key == sa.bindparam("key"),
        media_entries.c.revoked.is_(False),
    )
    .order_by(media_entries.c.created_at, media_entries.c.id)
    .limit(_HOLDERS_READ)
)


async def descriptions_of(db: Database, project: str, key: str) -> list[dict[str, Any]]:
    """How the entries that hold the object at `key` describe it now (as their asset, a
    translation's asset or a video's poster), the oldest entry's first."""
    found = []
    for row in await db.all(_HOLDERS, {"project": project, "key": key}):
        translated = [t.get("asset") for t in row.translations if isinstance(t, dict)]
        for asset in [row.asset, *translated]:
            poster = asset.get("poster") if isinstance(asset, dict) else None
            found += [
                described
                for described in (asset, poster)
                if isinstance(described, dict) and described.get("key") == key
            ]
    return found
