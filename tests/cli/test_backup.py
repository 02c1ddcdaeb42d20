"""`medialib backup` while a real server imports, `medialib restore` into a new home, and the
restored server serves every entry the backup holds with the bytes the original serves."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from medialib.auth.tokens import create_token
from medialib.bootstrap import Runtime, prepare
from medialib.settings import Settings
from tests.support import media
from tests.support.origin import Origin
from tests.support.process import ServerProcess

ITEMS = 24
HELD = range(12, 24)  # downloads that hang until the backup is taken: the import is under way


def medialib(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MEDIALIB_HOME": str(home)}
    for name in ("MEDIALIB_DATABASE_URL", "MEDIALIB_STORAGE_URL", "MEDIALIB_S3_ENDPOINT"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "medialib.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _server(home: Path) -> ServerProcess:
    process = ServerProcess(
        home,
        env={
            "MEDIALIB_FETCH_ALLOW": "127.0.0.1/32",
            "MEDIALIB_FETCH_PER_HOST": "64",
            "MEDIALIB_IMPORT_CHUNK_SIZE": "4",
        },
    )
    for name in ("MEDIALIB_DATABASE_URL", "MEDIALIB_STORAGE_URL", "MEDIALIB_S3_ENDPOINT"):
        process.env.pop(name, None)
    return process


@pytest.fixture
async def original(tmp_path: Path) -> AsyncIterator[ServerProcess]:
    process = _server(tmp_path / "home")
    yield process
    process.stop()


def _entries_in(backup: Path) -> dict[str, str]:
    """Entry id -> its asset's key, as the backed-up database holds them."""
    conn = sqlite3.connect(backup / "medialib.db")
    try:
        rows = conn.execute("SELECT id, asset FROM media_entries").fetchall()
    finally:
        conn.close()
    return {entry_id: json.loads(asset)["key"] for entry_id, asset in rows}


async def _done(client: httpx.AsyncClient, job_id: str) -> int:
    response = await client.get("/api/2026-05/import/images/status", params={"id": job_id})
    done: int = response.json()["progress"]["done"]
    return done


async def test_a_backup_taken_during_an_import_restores_into_a_server_serving_the_same_bytes(
    original: ServerProcess, origin: Origin, tmp_path: Path
) -> None:
    runtime = Runtime.from_settings(Settings(home=original.home, database_url=None))
    await prepare(runtime)
    _, token = await create_token(runtime.db, "demo", ["public-api:read", "public-api:write"])
    await runtime.close()
    gate, prefix = asyncio.Event(), os.urandom(4).hex()
    items = []
    for i in range(ITEMS):
        name, body = f"{prefix}/{i}.jpg", media.jpeg(width=40 + i)
        url = origin.gated(name, body, gate) if i in HELD else origin.file(name, body)
        items.append({"url": url, "id": f"item-{i}", "fileName": f"p{i}", "metadata": {}})
    original.serve()
    auth = {"Authorization": f"Bearer {token}"}
    client = httpx.AsyncClient(base_url=original.url, headers=auth, timeout=30)
    job = {"systemName": "backup", "images": items}
    job_id = (await client.post("/api/2026-05/import/images", json=job)).json()["id"]
    async with asyncio.timeout(60):
        while await _done(client, job_id) < ITEMS - len(HELD):
            await asyncio.sleep(0.05)
    first = _entries_in(original.home)
    rendition = f"/media/{next(iter(first.values()))}?w=20"
    made = await client.get(rendition)  # stored by the original: the backup takes it along
    assert made.status_code == 200

    backup = tmp_path / "backup"
    taken = await asyncio.to_thread(medialib, original.home, "backup", str(backup))
    assert taken.returncode == 0, taken.stderr
    assert await _done(client, job_id) < ITEMS  # it was taken in the middle of the import
    gate.set()
    async with asyncio.timeout(60):
        while await _done(client, job_id) < ITEMS:
            await asyncio.sleep(0.05)

    held = _entries_in(backup)
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["entries"] == len(held) >= ITEMS - len(HELD)
    assert manifest["missing"] == []
    restored = _server(tmp_path / "restored")
    done = await asyncio.to_thread(medialib, restored.home, "restore", str(backup))
    assert done.returncode == 0, done.stderr
    restored.serve()
    try:
        again = httpx.AsyncClient(base_url=restored.url, headers=auth, timeout=30)
        for entry_id, key in held.items():
            served, there = await again.get(f"/media/{key}"), await client.get(f"/media/{key}")
            assert served.status_code == there.status_code == 200, entry_id
            assert served.content == there.content, entry_id
            answered = await again.get(f"/api/2026-05/mediaLibrary/{entry_id}")
            assert answered.status_code == 200, answered.text
        kept = await again.get(rendition)
        assert kept.content == made.content
        # The job the backup caught running goes on in the restored home, and finishes.
        async with asyncio.timeout(60):
            while await _done(again, job_id) < ITEMS:
                await asyncio.sleep(0.05)
        # The restored database and objects agree: no row without its object, no stray object.
        checked = await asyncio.to_thread(medialib, restored.home, "doctor", "--min-age", "0")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        await again.aclose()
    finally:
        restored.stop()
    await client.aclose()


def test_restore_refuses_a_home_that_is_not_empty(tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    home = tmp_path / "home"
    (home / "storage").mkdir(parents=True)
    (home / "storage" / "something").write_bytes(b"x")
    assert medialib(home, "migrate").returncode == 0
    assert medialib(home, "backup", str(backup)).returncode == 0
    taken = json.loads((backup / "manifest.json").read_text())
    assert taken["entries"] == 0

    refused = medialib(home, "restore", str(backup))

    assert refused.returncode == 2
    assert "is not empty: restore into a new home" in refused.stderr
    assert (home / "storage" / "something").read_bytes() == b"x"


def test_restore_refuses_a_folder_that_is_not_a_finished_backup(tmp_path: Path) -> None:
    half = tmp_path / "half"
    half.mkdir()
    (half / "medialib.db").write_bytes(b"not a database")

    refused = medialib(tmp_path / "new", "restore", str(half))

    assert refused.returncode == 2
    assert "has no manifest.json" in refused.stderr
    assert not (tmp_path / "new").exists()


def test_restore_refuses_a_backup_whose_database_was_changed_and_writes_nothing(
    tmp_path: Path,
) -> None:
    home, backup = tmp_path / "home", tmp_path / "backup"
    assert medialib(home, "migrate").returncode == 0
    assert medialib(home, "backup", str(backup)).returncode == 0
    assert sorted(p.name for p in backup.iterdir()) == ["manifest.json", "medialib.db", "storage"]
    with (backup / "medialib.db").open("ab") as database:
        database.write(b"\0")

    refused = medialib(tmp_path / "new", "restore", str(backup))

    assert refused.returncode == 2
    assert "is not the database the backup wrote" in refused.stderr
    assert not (tmp_path / "new").exists()


def test_a_backup_is_never_written_into_the_store_it_backs_up(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert medialib(home, "migrate").returncode == 0

    refused = medialib(home, "backup", str(home / "storage" / "backup"))
    over_itself = medialib(home, "backup", str(home))

    assert refused.returncode == 2
    assert "inside the storage folder" in refused.stderr
    assert not (home / "storage" / "backup").exists()
    assert over_itself.returncode == 2
    assert "holds the database itself" in over_itself.stderr
    assert not (home / "manifest.json").exists()
