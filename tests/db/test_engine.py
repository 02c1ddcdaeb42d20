"""Database.first and Database.lookup on SQLite: reads on the event loop that must never hold
the loop up, and a lookup that sees every commit before it."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from medialib.db.engine import Database, Lookup
from medialib.db.migrate import migrate
from medialib.db.tables import api_tokens, assets, projects, utcnow

TOKEN_IDS = sa.select(api_tokens.c.id).where(api_tokens.c.id == sa.bindparam("id"))
ASSET = Lookup(
    sa.select(assets.c.project, assets.c.mime_type, assets.c.revoked).where(
        assets.c.key == sa.bindparam("key"), assets.c.released_at.is_(None)
    )
)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'medialib.db'}")
    await migrate(database)
    yield database
    await database.close()


def _hold_whole_database(path: str) -> sqlite3.Connection:
    """Another process's connection in exclusive locking mode: no one else reads meanwhile."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("DELETE FROM api_tokens")  # a write: the lock is taken now
    holder.execute("COMMIT")  # and kept, in exclusive locking mode, until the connection closes
    return holder


async def test_a_read_runs_on_the_event_loop(db: Database) -> None:
    reading = asyncio.create_task(db.first(TOKEN_IDS, {"id": "none"}))
    await asyncio.sleep(0)  # one turn of the loop: the task runs until it first waits

    assert reading.done()  # it never had to
    assert reading.result() is None


async def test_a_read_that_finds_the_database_held_waits_in_a_thread(db: Database) -> None:
    path = db.url.split("///", 1)[1]
    await db.close()  # its idle connections would keep the holder from taking the lock
    holder = _hold_whole_database(path)
    try:
        reading = asyncio.create_task(db.first(TOKEN_IDS, {"id": "none"}))
        await asyncio.sleep(0)  # one turn of the loop: the task runs until it first waits

        assert not reading.done()  # waiting for the lock, and not on the loop: we are here
    finally:
        holder.close()
    assert await reading is None


async def test_a_lookup_runs_on_the_event_loop(db: Database) -> None:
    reading = asyncio.create_task(db.lookup(ASSET, {"key": "a.jpg"}))
    await asyncio.sleep(0)

    assert reading.done()
    assert reading.result() is None


async def test_a_lookup_sees_every_commit_before_it(db: Database) -> None:
    now = utcnow()
    async with db.write() as conn:
        await conn.execute(projects.insert().values(handle="p", webhook_secret="s", created_at=now))
        await conn.execute(
            assets.insert().values(
                key="a.jpg", project="p", mime_type="image/jpeg", revoked=False, created_at=now
            )
        )
    assert await db.lookup(ASSET, {"key": "a.jpg"}) == ("p", "image/jpeg", 0)
    # Committed by another connection (another process's, as a revocation may be): the next
    # lookup sees it, as a lookup keeps no read transaction open.
    other = sqlite3.connect(db.url.split("///", 1)[1], isolation_level=None)
    try:
        other.execute("UPDATE assets SET revoked = 1 WHERE key = 'a.jpg'")
        assert await db.lookup(ASSET, {"key": "a.jpg"}) == ("p", "image/jpeg", 1)
        other.execute("UPDATE assets SET released_at = '2026-01-01' WHERE key = 'a.jpg'")
        assert await db.lookup(ASSET, {"key": "a.jpg"}) is None
    finally:
        other.close()


async def test_a_lookup_that_finds_the_database_held_waits_in_a_thread(db: Database) -> None:
    assert await db.lookup(ASSET, {"key": "a.jpg"}) is None  # its connection is open now
    path = db.url.split("///", 1)[1]
    await db.close()
    holder = _hold_whole_database(path)
    try:
        reading = asyncio.create_task(db.lookup(ASSET, {"key": "a.jpg"}))
        await asyncio.sleep(0)

        assert not reading.done()  # waiting for the lock in a thread, not on the loop
    finally:
        holder.close()
    assert await reading is None
