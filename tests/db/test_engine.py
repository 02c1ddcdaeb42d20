"""Database.first on SQLite: a read on the event loop that must never hold the loop up."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from medialib.db.engine import Database
from medialib.db.migrate import migrate
from medialib.db.tables import api_tokens

TOKEN_IDS = sa.select(api_tokens.c.id).where(api_tokens.c.id == sa.bindparam("id"))


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
