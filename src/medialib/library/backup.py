"""Backups of the embedded default (SQLite and a folder, or SQLite and a bucket) while it runs,
and their restore into a new home.

A backup is a folder: `medialib.db` (a snapshot taken with SQLite's online backup API, which
the server's writers do not wait for), `storage/` (every object that snapshot names: its
assets, the objects of uploads not yet registered, the renditions of its assets),
`medialib.yaml` and `secret.key` when the home has them, and `manifest.json`, written last:
a folder without one is a backup that did not finish.

The database goes first and the objects after: an object written after the snapshot is not
needed by it, and an object is never rewritten under its key, so an object already in the
backup folder (from an earlier backup to the same folder) is not copied again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from sqlalchemy.engine import make_url

from medialib.errors import ConfigError
from medialib.library.assets import VARIANTS
from medialib.media.storage import Storage
from medialib.server_secret import FILE_NAME as SECRET_FILE
from medialib.settings import Settings

MANIFEST = "manifest.json"
DATABASE = "medialib.db"
OBJECTS = "storage"
CONFIG = "medialib.yaml"
FORMAT = "medialib-backup/1"
OBJECTS_AT_ONCE = 8
BATCH = 1000

Say = Callable[[str], None]


class BackupError(ConfigError):
    """A backup or restore that cannot be made as asked (the message says why)."""


@dataclass
class BackupReport:
    entries: int = 0
    objects_copied: int = 0
    objects_present: int = 0  # in the backup folder already
    objects_missing: list[str] = field(default_factory=list)  # named by a row, not in storage
    renditions: int = 0


@dataclass(frozen=True)
class Snapshot:
    """What the backed-up database names: the objects it needs and those it may do without."""

    needed: list[str]  # live assets
    optional: list[str]  # released assets, uploads not yet registered
    entries: int
    schema: str | None


def sqlite_path(settings: Settings) -> Path:
    """The embedded database's file; an error for any other database."""
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise BackupError(
            "medialib backup takes the embedded SQLite database only; back up PostgreSQL "
            "with pg_dump (see docs/operations.md)"
        )
    return Path(url.database)


async def back_up(settings: Settings, storage: Storage, dest: Path, say: Say) -> BackupReport:
    """Back up the database and the objects it names into `dest` (made when missing; an earlier
    backup there is brought up to date)."""
    database = sqlite_path(settings)
    await asyncio.to_thread(_snapshot_database, database, dest, storage.local_path(""))
    snapshot = await asyncio.to_thread(_read_snapshot, dest / DATABASE)
    say(f"database: {snapshot.entries} entries, {len(snapshot.needed)} assets")
    report = BackupReport(entries=snapshot.entries)
    target = Storage((dest / OBJECTS).resolve().as_uri())
    await _copy_objects(storage, target, snapshot.needed, report, required=True)
    await _copy_objects(storage, target, snapshot.optional, report, required=False)
    variants = await _renditions_of(storage, snapshot.needed)
    report.renditions = len(variants)
    await _copy_objects(storage, target, variants, report, required=False)
    say(f"objects: {report.objects_copied} copied, {report.objects_present} already there")
    files = _copy_home_files(settings, dest)
    _write_manifest(dest, snapshot, report, files)
    return report


def _snapshot_database(source: Path, dest: Path, store: Path | None) -> None:
    """One step of SQLite's online backup: a consistent copy as of one moment; in WAL mode the
    server's writers go on meanwhile."""
    if store is not None and dest.resolve().is_relative_to(store.resolve()):
        raise BackupError(f"{dest} is inside the storage folder: back up somewhere else")
    if (dest / DATABASE).resolve() == source.resolve():
        raise BackupError(f"{dest} holds the database itself: back up somewhere else")
    if not source.is_file():
        raise BackupError(f"there is no database at {source}: nothing to back up")
    dest.mkdir(parents=True, exist_ok=True)
    (dest / MANIFEST).unlink(missing_ok=True)  # unfinished until it is written again
    target = dest / DATABASE
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=60)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst)
        # The copy takes the source's WAL mode: back to a rollback journal, so that the file
        # alone is the whole database (no -wal beside it); the server turns WAL on again.
        dst.execute("PRAGMA journal_mode=DELETE")
        problems = dst.execute("PRAGMA quick_check").fetchall()
        if problems != [("ok",)]:
            raise BackupError(f"the database copy fails SQLite's check: {problems[:3]}")
    finally:
        dst.close()
        src.close()
    os.replace(partial, target)


def _read_snapshot(path: Path) -> Snapshot:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        needed = [k for (k,) in conn.execute("SELECT key FROM assets WHERE released_at IS NULL")]
        released = [
            k for (k,) in conn.execute("SELECT key FROM assets WHERE released_at IS NOT NULL")
        ]
        pending = [k for (k,) in conn.execute("SELECT key FROM uploads")]
        entries = int(conn.execute("SELECT count(*) FROM media_entries").fetchone()[0])
        schema = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    finally:
        conn.close()
    return Snapshot(sorted(needed), sorted(set(released + pending)), entries, schema and schema[0])


async def _renditions_of(storage: Storage, originals: Iterable[str]) -> list[str]:
    """The stored renditions of these originals (any other one is an orphan: doctor's)."""
    wanted = set(originals)
    return [
        key
        for key in await storage.list_keys(VARIANTS)
        if key[len(VARIANTS) :].rpartition("/")[0] in wanted
    ]


async def _copy_objects(
    source: Storage, target: Storage, keys: list[str], report: BackupReport, *, required: bool
) -> None:
    gate = asyncio.Semaphore(OBJECTS_AT_ONCE)

    async def copy_one(key: str) -> None:
        async with gate:
            if await target.head(key) is not None:
                report.objects_present += 1
                return
            body = await source.get(key)
            if body is None:
                if required:
                    report.objects_missing.append(key)
                return
            await target.put(key, body.chunks)
            report.objects_copied += 1

    for start in range(0, len(keys), BATCH):  # not a coroutine per key of millions at once
        await asyncio.gather(*(copy_one(key) for key in keys[start : start + BATCH]))


def _copy_home_files(settings: Settings, dest: Path) -> list[str]:
    """The projects' configuration and the server secret (sessions and upload URLs signed
    before stay valid after a restore)."""
    copied = []
    config = settings.config_path
    if config is not None and config.is_file():
        shutil.copyfile(config, dest / CONFIG)
        copied.append(CONFIG)
    secret = settings.home / SECRET_FILE
    if settings.secret_key is None and secret.is_file():
        shutil.copyfile(secret, dest / SECRET_FILE)
        (dest / SECRET_FILE).chmod(0o600)
        copied.append(SECRET_FILE)
    return copied


def _write_manifest(dest: Path, snapshot: Snapshot, report: BackupReport, files: list[str]) -> None:
    manifest = {
        "format": FORMAT,
        "createdAt": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "medialib": version("medialib"),
        "schema": snapshot.schema,
        "database": {"file": DATABASE, "sha256": _sha256(dest / DATABASE)},
        "entries": snapshot.entries,
        "assets": len(snapshot.needed),
        "renditions": report.renditions,
        "missing": sorted(report.objects_missing),
        "files": files,
    }
    draft = dest / (MANIFEST + ".partial")
    draft.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(draft, dest / MANIFEST)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class RestoreReport:
    entries: int
    objects: int
    missing: list[str]  # named by the database, in neither the backup nor its manifest's list


def restore(source: Path, settings: Settings, say: Say) -> RestoreReport:
    """Restore the backup at `source` into the home of `settings`, which must be new: the
    embedded database and a storage folder, with nothing in them yet."""
    manifest = _read_manifest(source)
    database, storage_root = _restore_targets(settings)
    if (
        not (source / DATABASE).is_file()
        or _sha256(source / DATABASE) != manifest["database"]["sha256"]
    ):
        raise BackupError(f"{source / DATABASE} is not the database the backup wrote")
    try:
        snapshot = _read_snapshot(source / DATABASE)
    except sqlite3.Error as exc:
        raise BackupError(f"{source / DATABASE} cannot be read: {exc}") from None
    settings.home.mkdir(parents=True, exist_ok=True)
    for name in manifest.get("files", []):
        if name in (CONFIG, SECRET_FILE):
            shutil.copyfile(source / name, settings.home / name)
    if (settings.home / SECRET_FILE).exists():
        (settings.home / SECRET_FILE).chmod(0o600)
    if (source / OBJECTS).is_dir():
        shutil.copytree(source / OBJECTS, storage_root, dirs_exist_ok=True, ignore=_links)
    storage_root.mkdir(parents=True, exist_ok=True)
    database.parent.mkdir(parents=True, exist_ok=True)
    partial = database.with_name(database.name + ".partial")
    shutil.copyfile(source / DATABASE, partial)
    os.replace(partial, database)
    known_missing = set(manifest.get("missing", []))
    missing = [
        key
        for key in snapshot.needed
        if key not in known_missing and not (storage_root / key).is_file()
    ]
    objects = sum(1 for path in storage_root.rglob("*") if path.is_file())
    say(f"restored {snapshot.entries} entries and {objects} objects into {settings.home}")
    return RestoreReport(snapshot.entries, objects, missing)


def _links(folder: str, names: list[str]) -> list[str]:
    """Symbolic links are not restored: a backup's objects are files (a link could bring in
    any file of the machine under an object's key)."""
    return [name for name in names if os.path.islink(os.path.join(folder, name))]


def _read_manifest(source: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(
            f"{source} has no {MANIFEST}: not a backup, or one that did not finish"
        ) from None
    except (OSError, ValueError) as exc:
        raise BackupError(f"{source / MANIFEST} cannot be read: {exc}") from None
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != FORMAT
        or not isinstance(manifest.get("database"), dict)
        or not isinstance(manifest["database"].get("sha256"), str)
        or not _strings(manifest.get("missing", []))
        or not _strings(manifest.get("files", []))
    ):
        raise BackupError(f"{source / MANIFEST} is not a manifest of a medialib backup")
    return manifest


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _restore_targets(settings: Settings) -> tuple[Path, Path]:
    """The database file and storage folder to restore into: the new home's own."""
    if settings.database_url is not None or not settings.resolved_storage_url.startswith("file://"):
        raise BackupError(
            "medialib restore makes a new home with the embedded database and a storage folder; "
            "unset MEDIALIB_DATABASE_URL and MEDIALIB_STORAGE_URL (then `medialib copy` moves it "
            "to PostgreSQL and S3)"
        )
    database = sqlite_path(settings)
    storage_root = Path(unquote(urlparse(settings.resolved_storage_url).path))
    for place in (settings.home, storage_root):
        if place.exists() and (not place.is_dir() or any(place.iterdir())):
            raise BackupError(f"{place} is not empty: restore into a new home")
    return database, storage_root
