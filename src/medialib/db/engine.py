"""Connections and transactions.

Reads are async (one async engine per process). Writes that matter for throughput are written
as plain functions of a connection (`work(tx)`) and run by `Database.transact`:

- on SQLite, which has one writer at a time, in one writer thread with a synchronous connection
  from start to commit. An async transaction would hand control back to the event loop between
  its statements, and while a busy loop (hundreds of downloads) comes back to it, it would keep
  the write lock and every other process waiting. Write transactions also take the lock up front
  (BEGIN IMMEDIATE): one that reads first and then writes can fail at once with "database is
  locked" whatever the busy timeout. Read transactions never block anyone (WAL).
- on PostgreSQL, row locks are all a transaction holds, so the same function runs on the async
  connection (through SQLAlchemy's `run_sync`).

Tasks deferred in a transaction are written in it by the process's task queue (see tasks/), and
events appended to the outbox (db/outbox.py) get their deliveries deferred the same way: both
commit with the rows they refer to, or not at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from medialib.db.fts_words import HAS_WORDS, has_words

T = TypeVar("T")
_WRITE = "medialib_write"
BUSY_MS = 60_000  # how long a SQLite connection waits for another's lock


@dataclass(frozen=True)
class Deferral:
    name: str
    args: dict[str, Any]
    delay: float = 0.0


@dataclass(frozen=True)
class NewDelivery:
    """An outbox delivery appended in a transaction: its first attempt waits `hold` seconds."""

    id: str
    hold: float = 0.0


@dataclass
class Tx:
    """A write transaction's connection, the tasks it defers and the outbox deliveries it
    appends."""

    conn: Connection
    deferred: list[Deferral] = field(default_factory=list)
    deliveries: list[NewDelivery] = field(default_factory=list)
    committed: list[Callable[[], None]] = field(default_factory=list)

    @property
    def is_postgres(self) -> bool:
        return self.conn.dialect.name == "postgresql"

    def execute(self, statement: Any, parameters: Any = None) -> sa.CursorResult[Any]:
        return self.conn.execute(statement, parameters)

    def defer(self, name: str, args: dict[str, Any], *, delay: float = 0.0) -> None:
        """Low level: tasks are deferred through their definition (`Task.defer`)."""
        self.deferred.append(Deferral(name, args, delay))

    def on_commit(self, then: Callable[[], None]) -> None:
        """Call `then` once the transaction is committed (never, if it is not): what counts
        what it wrote counts only what stays."""
        self.committed.append(then)


class Deferrer(Protocol):
    """The port every task runner's queue implements: write deferred tasks into the caller's
    open transaction, and learn when they are committed."""

    def defer_sync(self, conn: Connection, deferrals: list[Deferral]) -> None: ...

    async def defer_async(self, conn: AsyncConnection, deferrals: list[Deferral]) -> None: ...

    def committed(self, deferrals: list[Deferral]) -> None: ...


# Called in the transaction that appended outbox deliveries: the events package defers their
# delivery (bootstrap.py plugs it in; the database only knows the port).
DispatchDeliveries = Callable[[Tx, list[NewDelivery]], None]


class Lookup:
    """One small read by key (a row by its primary or unique key), which a request that must be
    cheap asks: built once, compiled once per database (`Database.lookup`)."""

    def __init__(self, statement: sa.Select[Any]) -> None:
        self.statement = statement


class Database:
    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        queue: Deferrer | None = None,
        dispatch: DispatchDeliveries | None = None,
    ) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.queue = queue
        self.dispatch = dispatch
        self.engine: AsyncEngine = _create_engine(url, pool_size=pool_size)
        self._sync_engine: Engine | None = None
        self._loop_engine: Engine | None = None
        self._writer: ThreadPoolExecutor | None = None
        self._lookup_connection: Any = None  # the driver's own, on SQLite: see `lookup`
        self._lookups: dict[Lookup, tuple[str, tuple[str, ...]]] = {}

    async def transact(self, work: Callable[[Tx], T]) -> T:
        """Run `work(tx)` in one write transaction; its deferred tasks commit with it."""
        if self.is_sqlite:
            tx, result = await asyncio.get_running_loop().run_in_executor(
                self._writer_thread(), self._transact_sync, work
            )
        else:
            async with self.write() as conn:
                tx, result = await conn.run_sync(self._run_work, work)
                if tx.deferred:
                    await self._queue().defer_async(conn, tx.deferred)
        if tx.deferred:
            self._queue().committed(tx.deferred)
        for then in tx.committed:
            then()
        return result

    def _transact_sync(self, work: Callable[[Tx], T]) -> tuple[Tx, T]:
        with self._sync().connect() as conn:
            conn.execution_options(**{_WRITE: True})
            with conn.begin():
                tx, result = self._run_work(conn, work)
                if tx.deferred:
                    self._queue().defer_sync(conn, tx.deferred)
            return tx, result

    def _run_work(self, conn: Connection, work: Callable[[Tx], T]) -> tuple[Tx, T]:
        tx = Tx(conn)
        result = work(tx)
        if tx.deliveries:
            assert self.dispatch is not None, "outbox deliveries without a dispatcher"
            self.dispatch(tx, tx.deliveries)
        return tx, result

    def _queue(self) -> Deferrer:
        assert self.queue is not None, "work deferred tasks on a database without a task queue"
        return self.queue

    def _sync(self) -> Engine:
        if self._sync_engine is None:
            self._sync_engine = _create_sync_sqlite_engine(self.url)
        return self._sync_engine

    def _loop_reader(self) -> Engine:
        """Connections for reads on the event loop: they never wait for a lock."""
        if self._loop_engine is None:
            self._loop_engine = _create_sync_sqlite_engine(self.url, busy_ms=0)
        return self._loop_engine

    def _writer_thread(self) -> ThreadPoolExecutor:
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        return self._writer

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """An async write transaction, for writes where the event loop's pace does not matter
        (tokens, projects, migrations); committed when the block ends without an error."""
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(**{_WRITE: True})
            async with conn.begin():
                yield conn

    @asynccontextmanager
    async def read(self, *, snapshot: bool = False) -> AsyncIterator[AsyncConnection]:
        """A read transaction; with `snapshot`, every statement in it sees the same data
        (PostgreSQL's REPEATABLE READ; a SQLite read transaction always does)."""
        async with self.engine.connect() as conn:
            if snapshot and not self.is_sqlite:
                conn = await conn.execution_options(isolation_level="REPEATABLE READ")
            async with conn.begin():
                yield conn

    async def first(
        self, statement: sa.Select[Any], parameters: dict[str, Any] | None = None
    ) -> sa.Row[Any] | None:
        """The first row of one small read on its own (a row by its key: a token, an entry, an
        asset), which every API request and every rendition served asks. Callers build the
        statement once, with bind parameters: building one anew costs more than running it.

        On SQLite it runs right here on the event loop. Such a read takes tens of microseconds
        and never waits for a writer (WAL), while a hop to a thread and back costs 50 to 200 µs
        of CPU, and the async driver pays one per statement, BEGIN and COMMIT included. Only
        when something holds the whole database (a process in exclusive locking mode, a WAL
        being recovered) would it wait: then it gives up at once and waits in a thread, and
        the event loop goes on serving."""
        if not self.is_sqlite:
            async with self.engine.connect() as conn:
                found: sa.Row[Any] | None = (await conn.execute(statement, parameters)).first()
                return found
        try:
            return _first(self._loop_reader(), statement, parameters)
        except sa.exc.OperationalError as exc:
            if not _is_busy(exc):
                raise
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, _first, self._sync(), statement, parameters)

    async def all(
        self, statement: sa.Select[Any], parameters: dict[str, Any] | None = None
    ) -> list[sa.Row[Any]]:
        """Every row of one small read on its own (a few rows found by an index), run as
        `first` runs its read: on SQLite, right here on the event loop."""
        if not self.is_sqlite:
            async with self.engine.connect() as conn:
                return list((await conn.execute(statement, parameters)).all())
        try:
            return _all(self._loop_reader(), statement, parameters)
        except sa.exc.OperationalError as exc:
            if not _is_busy(exc):
                raise
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, _all, self._sync(), statement, parameters)

    async def lookup(self, query: Lookup, parameters: dict[str, Any]) -> tuple[Any, ...] | None:
        """The first row of `query`, its values as the driver gives them (on SQLite, booleans
        are 0 and 1): for a read on a path that must cost little (a cached rendition).

        On SQLite, the statement is compiled once and run straight on one connection of the
        driver's, kept for it on the event loop: `first`'s way (a connection from the pool,
        BEGIN, the statement through SQLAlchemy's execution, ROLLBACK) costs some 110 µs of CPU,
        this under 10. That connection is in autocommit mode and the cursor is closed before this
        returns, so no read transaction outlives the statement: each lookup sees every commit
        before it (a revocation at once). It never waits for a lock (busy_timeout 0, as
        `first`'s); when one is held, the read is `first`'s, which waits in a thread. On
        PostgreSQL it is `first`."""
        if not self.is_sqlite:
            row = await self.first(query.statement, parameters)
            return None if row is None else tuple(row)
        sql, names = self._compiled(query)
        try:
            cursor = self._lookup_driver_connection().execute(sql, [parameters[n] for n in names])
            try:
                found: tuple[Any, ...] | None = cursor.fetchone()
                return found
            finally:
                cursor.close()
        except (sqlite3.Error, sa.exc.DBAPIError) as exc:  # the latter: from the connect
            # Busy: `first` waits in a thread. Anything else (a file gone, a closed connection):
            # a fresh connection next time, and `first` answers now, its errors SQLAlchemy's as
            # every caller knows them.
            if not _is_busy_code(exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc):
                self._close_lookup_connection()
        row = await self.first(query.statement, parameters)
        return None if row is None else tuple(row)

    def _compiled(self, query: Lookup) -> tuple[str, tuple[str, ...]]:
        """The driver's SQL of `query` (positional parameters on SQLite) and its parameters'
        names in their order."""
        found = self._lookups.get(query)
        if found is None:
            compiled = query.statement.compile(dialect=self.engine.dialect)
            # An IN list of bound values is compiled afresh for each list: not a lookup.
            assert "POSTCOMPILE" not in str(compiled), "a lookup's statement is fixed"
            found = str(compiled), tuple(compiled.positiontup or ())
            self._lookups[query] = found
        return found

    def _lookup_driver_connection(self) -> sqlite3.Connection:
        if self._lookup_connection is None:
            # From the event loop's engine: its set-up (WAL, busy_timeout 0, autocommit) and
            # functions; checked out for good, closed by `close`.
            self._lookup_connection = self._loop_reader().raw_connection()
        driver: sqlite3.Connection = self._lookup_connection.driver_connection
        return driver

    def _close_lookup_connection(self) -> None:
        if self._lookup_connection is not None:
            connection, self._lookup_connection = self._lookup_connection, None
            with contextlib.suppress(sqlite3.Error, sa.exc.SQLAlchemyError):
                connection.close()

    async def ping(self) -> None:
        async with self.read() as conn:
            await conn.exec_driver_sql("SELECT 1")

    async def close(self) -> None:
        await self.engine.dispose()
        self._close_lookup_connection()
        if self._writer is not None:
            self._writer.shutdown(wait=True)
            self._writer = None
        for engine in (self._sync_engine, self._loop_engine):
            if engine is not None:
                engine.dispose()
        self._sync_engine = self._loop_engine = None


def _first(engine: Engine, statement: sa.Select[Any], parameters: Any) -> sa.Row[Any] | None:
    with engine.connect() as conn:
        return conn.execute(statement, parameters).first()


def _all(engine: Engine, statement: sa.Select[Any], parameters: Any) -> list[sa.Row[Any]]:
    with engine.connect() as conn:
        return list(conn.execute(statement, parameters).all())


def _is_busy(exc: sa.exc.OperationalError) -> bool:
    """Whether SQLite refused because another connection holds a lock it needs."""
    return _is_busy_code(exc.orig)


def _is_busy_code(exc: BaseException | None) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


# Entries carry three JSON documents each; orjson keeps a 1000-entry batch cheap.
_JSON = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}


def _create_engine(url: str, *, pool_size: int) -> AsyncEngine:
    if not url.startswith("sqlite"):
        return create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            # psycopg prepares a statement run often, and PostgreSQL then plans it once for every
            # value: one plan for `q=common word` and `q=rare word`, which need opposite ones.
            connect_args={"options": "-c plan_cache_mode=force_custom_plan"},
            **_JSON,
        )
    engine = create_async_engine(
        url, connect_args={"timeout": BUSY_MS / 1000}, pool_size=pool_size, **_JSON
    )
    event.listen(engine.sync_engine, "connect", _sqlite_setup(BUSY_MS))
    event.listen(engine.sync_engine, "begin", _begin_sqlite)
    return engine


def _create_sync_sqlite_engine(url: str, *, busy_ms: int = BUSY_MS) -> Engine:
    sync_url = url.replace("sqlite+aiosqlite://", "sqlite://", 1)
    engine = sa.create_engine(
        sync_url,
        connect_args={"timeout": busy_ms / 1000, "check_same_thread": False},
        **_JSON,
    )
    event.listen(engine, "connect", _sqlite_setup(busy_ms))
    event.listen(engine, "begin", _begin_sqlite)
    return engine


def _sqlite_setup(busy_ms: int) -> Callable[[Any, Any], None]:
    """Configures each new connection; `busy_ms`: how long it waits for another's lock."""

    def configure(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so that BEGIN is ours to spell (module doc).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            f"busy_timeout={busy_ms}",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()
        dbapi_connection.create_function(HAS_WORDS, 2, has_words, deterministic=True)

    return configure


def _begin_sqlite(conn: Connection) -> None:
    immediate = conn.get_execution_options().get(_WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
