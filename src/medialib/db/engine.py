"""Connections: one async engine per process, transactions that say whether they write.

SQLite has one writer at a time. A transaction that reads and then writes under SQLite's default
deferred locking can fail at once with "database is locked" when another writer got there first,
whatever the busy timeout; so write transactions take the write lock up front (BEGIN IMMEDIATE)
and wait their turn, while read transactions never block anyone (WAL).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

_WRITE = "medialib_write"
_AFTER_COMMIT = "medialib_after_commit"


def after_commit(conn: AsyncConnection, callback: Callable[[], None]) -> None:
    """Run `callback` when the transaction of `conn` (from `Database.write`) has committed."""
    conn.info.setdefault(_AFTER_COMMIT, []).append(callback)


class Database:
    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.engine: AsyncEngine = _create_engine(url, pool_size=pool_size)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that may write; committed when the block ends without an error.

        Callbacks registered with `after_commit` run once the commit is through.
        """
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(**{_WRITE: True})
            try:
                async with conn.begin():
                    yield conn
            except BaseException:
                conn.info.pop(_AFTER_COMMIT, None)
                raise
            for callback in conn.info.pop(_AFTER_COMMIT, ()):
                callback()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn, conn.begin():
            yield conn

    async def ping(self) -> None:
        async with self.read() as conn:
            await conn.exec_driver_sql("SELECT 1")

    async def close(self) -> None:
        await self.engine.dispose()


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _create_engine(url: str, *, pool_size: int) -> AsyncEngine:
    # Entries carry three JSON documents each; orjson keeps a 1000-entry batch cheap.
    json_options: dict[str, Any] = {
        "json_serializer": _json_dumps,
        "json_deserializer": orjson.loads,
    }
    if not url.startswith("sqlite"):
        return create_async_engine(
            url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, **json_options
        )
    engine = create_async_engine(
        url, connect_args={"timeout": 60}, pool_size=pool_size, **json_options
    )
    event.listen(engine.sync_engine, "connect", _configure_sqlite)
    event.listen(engine.sync_engine, "begin", _begin_sqlite)
    return engine


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control from the driver so that BEGIN is ours to spell (see module doc).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        "busy_timeout=60000",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _begin_sqlite(conn: Connection) -> None:
    immediate = conn.get_execution_options().get(_WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
