"""Browsing a library of a million entries (`GET /mediaLibrary?limit=100&…`) beside plain SQL.

On SQLite and PostgreSQL, the limit and medialib in the same run:

    python bench/library_browse.py [--entries 1000000] [--rounds 5] [--requests 200]
                                   [--backend sqlite|postgres|both] [--no-cache] [--explain]

The library (project `demo`, the default config's image, file and video types) is made with
plain SQL once the schema is migrated by `medialib` itself: seeded random rows, the same on both
backends, loaded with executemany on SQLite (then `entry_search` filled by medialib's own
statement, db/search_index.py) and COPY on PostgreSQL (the generated `search` column and its GIN
index fill themselves), then ANALYZE / VACUUM ANALYZE. Entries are 85% images, 10% files, 5%
videos, from five systems; 1% are archived, 0.5% revoked; created over two years, 2% updated in
the last week. Their title and caption are words drawn (Zipf) from a made-up vocabulary, plus
three planted words of known frequency: `harbour` (20% of entries), `sunset` (10%) and
`zeppelin` (0.1%). The built SQLite file and PostgreSQL database are kept (in
~/.cache/medialib-bench and as `medialib_bench_browse_<entries>_<schema head>`) and reused by
the next run of the same size and
schema; `--no-cache` builds them for this run only and drops them after.

Each backend gets a real `medialib serve --no-worker` (no task worker: nothing in it runs but
the requests; the rate limit off, which would refuse a client this fast). Thirteen pages of 100
are asked for: the newest; page 50 (following `cursor`); a cursor in the middle of the table;
`mediaType=file`; `systemName=agency-a`; `archived=true`; `revoked=true`; `createdAfter` (the
newest 5%); `updatedAfter` (the last three days); `q` with a common word, a rare word, two words,
and with `mediaType=image`.

Ours: `--requests` sequential GETs of the page by one keep-alive httpx client, each timed to the
last byte of its body. The limit: the same page (the app's columns, conditions, order and
LIMIT 101: library/browse.py's SQL written out; on PostgreSQL not `*`, which would read the
`search` tsvector too, and each statement planned for its values as the app's connections do)
fetched as often through the same driver outside medialib: the sqlite3 module on the same file,
psycopg on the same database. On SQLite each word of `q` is asked as the index's terms it
begins (library.browse.fts_query, looked up in `entry_search_terms`), and a `q` with thousands of
matches is made as the app makes it: the entries walked newest first, each step's rowid range
asked of FTS5, the step growing with the rate of matches (library.browse.next_step; a count of up
to 5000 matches decides, as in the app). Before measuring, both must give the same entries.
Each round measures, query by query, the limit and then ours. While the limit is measured the
server stays up but idle: no request reaches it and, without a worker, nothing in it wakes;
stopping it instead would make every round restart it and measure ours on cold caches.

Printed per round and query: p50 and p99 of each (of 200 requests the p99 is about the second
slowest) and the ratios ours / limit; then per query the p50 and p99 over every round's requests,
the medians of the per-round ratios (every round shown), and whether ours meets the target of
the issue: p99 under 50 ms for every query on both backends. The last line is the whole
result as JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import httpx
import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.process import ServerProcess

from medialib.db import keyset
from medialib.db.migrate import head_revision
from medialib.db.search_index import INDEX_NEW_ENTRIES_SQL
from medialib.db.tables import media_entries
from medialib.library.browse import FEW_MATCHES, MAX_TERMS, WALK_STEP, fts_query, next_step

TARGET_P99_MS = 50.0
API = "/api/2026-05/mediaLibrary"
PAGE = 100
PROJECT = "demo"
DATA_VERSION = 1  # bump when the generated rows change: cached libraries are rebuilt
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "medialib-bench"

# The library's clock: created over the two years before NOW, some updated in its last week.
NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
SPAN = dt.timedelta(days=730)
RECENT = dt.timedelta(days=7)

# Planted words and how many entries carry them; no word of the vocabulary starts with them.
COMMON, SECOND, RARE = "harbour", "sunset", "zeppelin"
SHARES = {COMMON: 0.20, SECOND: 0.10, RARE: 0.001}
KINDS = {"image": 0.85, "file": 0.10, "video": 0.05}
SYSTEMS = {"archive": 0.45, "wire": 0.20, "agency-a": 0.15, "agency-b": 0.12, "legacy": 0.08}
ARCHIVED, REVOKED, UPDATED = 0.01, 0.005, 0.02

ENTRY_COLUMNS = (
    "project, id, media_type, system_name, external_id, asset, metadata, translations, version,"
    " archived, revoked, revoke_note, created_at, updated_at, import_fingerprint"
)
# What the app selects (every column of its model); on PostgreSQL `*` would also read `search`.
SELECTED = ", ".join(column.name for column in media_entries.columns)
Statement = tuple[str, list[Any]]  # SQL and its values


# --- The library -------------------------------------------------------------------------------


def vocabulary(size: int = 3000) -> list[str]:
    """Made-up words of two or three syllables (none starts with a planted word)."""
    rng = random.Random(5)
    syllables = [c + v for c in "bdfgklmnprstv" for v in "aeiou"]
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choices(syllables, k=rng.choice((2, 2, 3)))))
    chosen = sorted(words)
    rng.shuffle(chosen)
    assert not any(w.startswith(planted) for w in chosen for planted in SHARES)
    return chosen


class Rows:
    """The library's rows in insert order (ENTRY_COLUMNS), the same for every backend."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.rng = random.Random(count)
        self.words = vocabulary()
        self.zipf = list(_cumulative([1 / (rank + 1) for rank in range(len(self.words))]))
        self.step = SPAN / count

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        rng, ids = self.rng, set[str]()
        alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        kinds, systems = list(KINDS), list(SYSTEMS)
        kind_weights, system_weights = list(KINDS.values()), list(SYSTEMS.values())
        for i in range(self.count):
            entry_id = "".join(rng.choices(alphabet, k=12))
            while entry_id in ids:
                entry_id = "".join(rng.choices(alphabet, k=12))
            ids.add(entry_id)
            kind = rng.choices(kinds, kind_weights)[0]
            system = rng.choices(systems, system_weights)[0]
            created = NOW - SPAN + self.step * (i + rng.random() * 0.5)
            updated = created
            if rng.random() < UPDATED:
                updated = max(created, NOW - RECENT * rng.random())
            yield (
                PROJECT,
                entry_id,
                kind,
                system,
                f"{system}-{i}",
                json.dumps(self.asset(kind, i, created), separators=(",", ":")),
                json.dumps(self.metadata(), separators=(",", ":")),
                "[]",
                1,
                rng.random() < ARCHIVED,
                rng.random() < REVOKED,
                None,
                created,
                updated,
                None,
            )

    def asset(self, kind: str, i: int, created: dt.datetime) -> dict[str, Any]:
        rng = self.rng
        name = uuid.UUID(int=rng.getrandbits(128), version=4)
        extension, mime, stem = {
            "image": ("jpeg", "image/jpeg", "photo"),
            "file": ("pdf", "application/pdf", "document"),
            "video": ("mp4", "video/mp4", "clip"),
        }[kind]
        asset: dict[str, Any] = {
            "key": f"{created:%Y/%m/%d}/{name}.{extension}",
            "size": rng.randrange(20_000, 8_000_000),
        }
        if kind != "file":
            asset |= rng.choice([{"width": 1600, "height": 1200}, {"width": 1920, "height": 1080}])
        if kind == "video":
            asset["duration"] = round(rng.uniform(5, 600), 2)
        return asset | {"filename": f"{stem}-{i}.{extension}", "mimeType": mime}

    def metadata(self) -> dict[str, str]:
        rng = self.rng
        title = rng.choices(self.words, cum_weights=self.zipf, k=rng.randrange(3, 6))
        caption = rng.choices(self.words, cum_weights=self.zipf, k=rng.randrange(6, 14))
        if rng.random() < SHARES[SECOND]:
            title.insert(rng.randrange(len(title) + 1), SECOND)
        for planted in (COMMON, RARE):
            if rng.random() < SHARES[planted]:
                caption.insert(rng.randrange(len(caption) + 1), planted)
        return {"title": " ".join(title).capitalize(), "caption": " ".join(caption) + "."}


def _cumulative(values: list[float]) -> Iterator[float]:
    total = 0.0
    for value in values:
        total += value
        yield total


def sqlite_text(when: dt.datetime) -> str:
    """How UTCDateTime stores a time on SQLite."""
    return when.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def medialib_command(database_url: str, *command: str) -> str:
    """`medialib <command>` on that database (in a throwaway home); its standard output."""
    with tempfile.TemporaryDirectory(prefix="medialib-bench-browse-") as home:
        process = ServerProcess(Path(home), env={"MEDIALIB_DATABASE_URL": database_url})
        return process.run(*command)


def prepare_schema(database_url: str) -> None:
    """The schema and the `demo` project's row, made by medialib (a token is made on the way)."""
    medialib_command(database_url, "migrate")
    medialib_command(
        database_url, "token", "create", "--project", PROJECT, "--scope", "public-api:read"
    )


class Laps:
    """Seconds spent on each step of a build."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.last = time.perf_counter()

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.seconds[step], self.last = round(now - self.last, 2), now


class Library(Protocol):
    name: str

    @property
    def url(self) -> str:
        """The library as MEDIALIB_DATABASE_URL."""

    def build(self, count: int) -> dict[str, float] | None:
        """Make the library unless a cached one is there; the seconds of each step, or None."""

    def raw(self) -> Raw: ...

    def drop(self) -> None: ...


@dataclass
class SqliteLibrary:
    path: Path
    name: str = "sqlite"

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"

    def build(self, count: int) -> dict[str, float] | None:
        if self.path.exists():
            return None
        laps = Laps()
        building = self.path.with_suffix(".building")
        for stale in building.parent.glob(building.name + "*"):
            stale.unlink()
        building.parent.mkdir(parents=True, exist_ok=True)
        prepare_schema(f"sqlite:///{building}")
        laps.lap("schema")
        db = sqlite3.connect(building, isolation_level=None)
        db.execute("PRAGMA synchronous=OFF")
        db.execute("PRAGMA cache_size=-524288")  # 512 MB: the id and external id indexes fit
        insert = f"INSERT INTO media_entries ({ENTRY_COLUMNS}) VALUES ({', '.join('?' * 15)})"
        batch: list[tuple[Any, ...]] = []
        for row in Rows(count):
            batch.append((*row[:12], *_texts(row[12:14]), None))
            if len(batch) == 50_000:
                _insert_batch(db, insert, batch)
        _insert_batch(db, insert, batch)
        laps.lap("rows")
        db.execute(INDEX_NEW_ENTRIES_SQL)  # their words, as medialib adds them
        laps.lap("words")
        db.execute("ANALYZE")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        building.rename(self.path)
        laps.lap("analyze")
        return laps.seconds

    def raw(self) -> Raw:
        return RawSqlite(self.path)

    def drop(self) -> None:
        for path in self.path.parent.glob(self.path.name + "*"):
            path.unlink()


def _texts(times: Sequence[dt.datetime]) -> list[str]:
    return [sqlite_text(when) for when in times]


def _insert_batch(db: sqlite3.Connection, insert: str, batch: list[tuple[Any, ...]]) -> None:
    db.execute("BEGIN")
    db.executemany(insert, batch)
    db.execute("COMMIT")
    batch.clear()


@dataclass
class PostgresLibrary:
    database: str
    admin_url: str
    name: str = "postgres"
    complete: str = "medialib bench library, complete"

    @property
    def url(self) -> str:
        parts = urllib.parse.urlsplit(self.admin_url)
        return parts._replace(path=f"/{self.database}").geturl()

    def build(self, count: int) -> dict[str, float] | None:
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            found = admin.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                [self.database],
            ).fetchone()
            if found is not None and found[0] == self.complete:
                return None
            laps = Laps()
            name = sql.Identifier(self.database)
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            admin.execute(sql.SQL("CREATE DATABASE {}").format(name))
            prepare_schema(self.url)
            laps.lap("schema")
            self._load(count, laps)
            admin.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(name, self.complete))
            return laps.seconds

    def _load(self, count: int, laps: Laps) -> None:
        with psycopg.connect(self.url, autocommit=True) as db:
            copy = f"COPY media_entries ({ENTRY_COLUMNS}) FROM STDIN"
            with db.transaction(), db.cursor() as cursor, cursor.copy(copy) as rows:
                for row in Rows(count):
                    rows.write_row(row)
            laps.lap("rows")
            db.execute("VACUUM ANALYZE media_entries")
            laps.lap("analyze")

    def raw(self) -> Raw:
        return RawPostgres(self.url)

    def drop(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            name = sql.Identifier(self.database)
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


# --- The queries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ask:
    """One page of the library: its HTTP parameters, and the plain SQL that fetches it."""

    name: str
    media_type: str | None = None
    system_name: str | None = None
    created_after: dt.datetime | None = None  # to the millisecond, as the API shows times
    updated_after: dt.datetime | None = None
    archived: bool | None = None
    revoked: bool | None = None
    q: str | None = None
    cursor: str | None = None

    def params(self) -> dict[str, str]:
        wanted: dict[str, Any] = {
            "limit": PAGE,
            "mediaType": self.media_type,
            "systemName": self.system_name,
            "createdAfter": self.created_after and _iso(self.created_after),
            "updatedAfter": self.updated_after and _iso(self.updated_after),
            "archived": self.archived,
            "revoked": self.revoked,
            "q": self.q,
            "cursor": self.cursor,
        }
        return {
            k: str(v).lower() if isinstance(v, bool) else str(v)
            for k, v in wanted.items()
            if v is not None
        }

    def sql(self, sqlite: bool, match: str | None = None) -> Statement:
        """The app's query (library/browse.py) in plain SQL, for SQLite or PostgreSQL; `match`
        is the FTS5 query of `q` when it was made already."""
        mark = "?" if sqlite else "%s"
        stamp = sqlite_text if sqlite else (lambda when: when)
        where: list[str] = [f"project = {mark}"]
        values: list[Any] = [PROJECT]
        equal = {"media_type": self.media_type, "system_name": self.system_name}
        for column, value in equal.items():
            if value is not None:
                where.append(f"{column} = {mark}")
                values.append(value)
        later = {"created_at": self.created_after, "updated_at": self.updated_after}
        for column, when in later.items():
            if when is not None:  # the API shows milliseconds: "after" starts 1 ms later
                where.append(f"{column} >= {mark}")
                values.append(stamp(when + dt.timedelta(milliseconds=1)))
        for column, flag in {"archived": self.archived, "revoked": self.revoked}.items():
            if flag is not None:
                where.append(f"{column} IS {int(flag) if sqlite else str(flag).lower()}")
        if self.q is not None:
            condition, words = _search(self.q.lower().split(), sqlite, mark)
            where.append(condition)
            values.append(match or words)
        if self.cursor is not None:
            after, last_id = keyset.decode(self.cursor)
            where.append(f"(created_at, id) < ({mark}, {mark})")
            values += [stamp(after), last_id]
        statement = (
            f"SELECT {SELECTED} FROM media_entries WHERE {' AND '.join(where)}"
            f" ORDER BY created_at DESC, id DESC LIMIT {PAGE + 1}"
        )
        return statement, values


def _iso(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _search(words: list[str], sqlite: bool, mark: str) -> tuple[str, str]:
    """Every word as the start of a word of the entry's text: the condition and its query."""
    if sqlite:
        condition = f"rowid IN (SELECT rowid FROM entry_search WHERE entry_search MATCH {mark})"
        return condition, " AND ".join(f'"{word}"*' for word in words)
    return f"search @@ to_tsquery('simple', {mark})", " & ".join(f"{word}:*" for word in words)


def _to_ms(when: dt.datetime) -> dt.datetime:
    return when.replace(microsecond=when.microsecond // 1000 * 1000)


def asks(client: httpx.Client, raw: Raw, count: int) -> list[Ask]:
    """The thirteen pages, with cursors found by walking the API and by the limit's SQL."""
    cursor: str | None = None
    for _ in range(49):
        answer = client.get(API, params=Ask("walk", cursor=cursor).params())
        answer.raise_for_status()
        cursor = answer.json()["cursor"]
    when, last_id = raw.row_at(count // 2)
    return [
        Ask("newest first"),
        Ask("page 50 (by cursor)", cursor=cursor),
        Ask("mid-table cursor", cursor=keyset.encode(when, last_id)),
        Ask("mediaType=file (10%)", media_type="file"),
        Ask("systemName=agency-a (15%)", system_name="agency-a"),
        Ask("archived=true (1%)", archived=True),
        Ask("revoked=true (0.5%)", revoked=True),
        Ask("createdAfter newest 5%", created_after=_to_ms(NOW - SPAN * 0.05)),
        Ask("updatedAfter 3 days ago", updated_after=_to_ms(NOW - dt.timedelta(days=3))),
        Ask(f"q={COMMON} (20%)", q=COMMON),
        Ask(f"q={RARE} (0.1%)", q=RARE),
        Ask(f"q={COMMON} {SECOND} (2%)", q=f"{COMMON} {SECOND}"),
        Ask(f"image & q={COMMON} (17%)", media_type="image", q=COMMON),
    ]


# --- The limit: the same SQL through the same driver, outside medialib -------------------------


class Raw(Protocol):
    sqlite: bool

    def fetch(self, statement: Statement) -> list[tuple[Any, ...]]: ...

    def page(self, ask: Ask) -> list[tuple[Any, ...]]:
        """The page, the way the app makes it, in plain SQL."""

    def row_at(self, offset: int) -> tuple[dt.datetime, str]: ...

    def explain(self, ask: Ask) -> str: ...

    def close(self) -> None: ...


def _walk_step(ask: Ask, size: int) -> Statement:
    """A step of the walk past a common word: the next entries' rowids, positions and ids."""
    statement, values = ask.sql(sqlite=True)
    statement = statement.replace(f"SELECT {SELECTED}", "SELECT rowid, created_at, id")
    return statement.replace(f"LIMIT {PAGE + 1}", f"LIMIT {size}"), values


class RawSqlite:
    sqlite = True

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path)

    def fetch(self, statement: Statement) -> list[tuple[Any, ...]]:
        return self.db.execute(*statement).fetchall()

    def page(self, ask: Ask) -> list[tuple[Any, ...]]:
        """The page as the app makes it, in plain SQL: past a few thousand matches of `q` it
        walks the entries a step at a time and asks FTS5 about each step's rowid range."""
        if ask.q is None:
            return self.fetch(ask.sql(sqlite=True))
        words = self.fts_query(ask.q.lower().split())
        if words is None:
            return []
        found = self.db.execute(
            "SELECT count(*) FROM (SELECT 1 FROM entry_search WHERE entry_search MATCH ? LIMIT ?)",
            [words, FEW_MATCHES],
        ).fetchone()[0]
        if found < FEW_MATCHES:
            return self.fetch(ask.sql(sqlite=True, match=words))
        walking, size, walked = replace(ask, q=None), WALK_STEP, 0
        picked: list[int] = []
        while len(picked) <= PAGE:
            rows = self.db.execute(*_walk_step(walking, size)).fetchall()
            if not rows:
                break
            rowids = [row[0] for row in rows]
            hits = {
                hit
                for (hit,) in self.db.execute(
                    "SELECT rowid FROM entry_search WHERE entry_search MATCH ?"
                    " AND rowid BETWEEN ? AND ?",
                    [words, min(rowids), max(rowids)],
                )
            }
            picked += [rowid for rowid in rowids if rowid in hits]
            if len(rows) < size:
                break
            walked += len(rows)
            size = next_step(walked, len(picked), PAGE + 1)
            when = dt.datetime.fromisoformat(rows[-1][1]).replace(tzinfo=dt.UTC)
            walking = replace(walking, cursor=keyset.encode(when, rows[-1][2]))
        chosen = picked[: PAGE + 1]
        marks = ", ".join("?" * len(chosen))
        return self.db.execute(
            f"SELECT {SELECTED} FROM media_entries WHERE rowid IN ({marks})"
            " ORDER BY created_at DESC, id DESC",
            chosen,
        ).fetchall()

    def fts_query(self, words: list[str]) -> str | None:
        """`q` as FTS5 is asked it: each word as the few terms it begins (the app's rule)."""
        terms = {
            word: [
                term
                for (term,) in self.db.execute(
                    "SELECT term FROM entry_search_terms WHERE term >= ? AND term < ? LIMIT ?",
                    [word, word[:-1] + chr(ord(word[-1]) + 1), MAX_TERMS + 1],
                )
            ]
            for word in words
            if word.isascii()
        }
        return fts_query(words, terms)

    def row_at(self, offset: int) -> tuple[dt.datetime, str]:
        when, row_id = self.db.execute(
            "SELECT created_at, id FROM media_entries ORDER BY created_at DESC, id DESC"
            " LIMIT 1 OFFSET ?",
            [offset],
        ).fetchone()
        return dt.datetime.fromisoformat(when).replace(tzinfo=dt.UTC), row_id

    def explain(self, ask: Ask) -> str:
        statement, values = ask.sql(sqlite=True)
        plan = self.db.execute(f"EXPLAIN QUERY PLAN {statement}", values).fetchall()
        return "\n".join(f"{row[0]:>4} {row[1]:>4}  {row[3]}" for row in plan)

    def close(self) -> None:
        self.db.close()


class RawPostgres:
    sqlite = False

    def __init__(self, url: str) -> None:
        # As the app connects: each statement planned for its own values (see db/engine.py).
        options = "-c plan_cache_mode=force_custom_plan"
        self.db = psycopg.connect(url, autocommit=True, options=options)

    def fetch(self, statement: Statement) -> list[tuple[Any, ...]]:
        return self.db.execute(*statement).fetchall()

    def page(self, ask: Ask) -> list[tuple[Any, ...]]:
        return self.fetch(ask.sql(sqlite=False))

    def row_at(self, offset: int) -> tuple[dt.datetime, str]:
        row = self.db.execute(
            "SELECT created_at, id FROM media_entries ORDER BY created_at DESC, id DESC"
            " LIMIT 1 OFFSET %s",
            [offset],
        ).fetchone()
        assert row is not None
        return row[0], row[1]

    def explain(self, ask: Ask) -> str:
        statement, values = ask.sql(sqlite=False)
        explained = f"EXPLAIN (ANALYZE, BUFFERS) {statement}"
        plan = self.db.execute(explained, values).fetchall()
        return "\n".join(row[0] for row in plan)

    def close(self) -> None:
        self.db.close()


# --- Measuring ---------------------------------------------------------------------------------


def time_raw(raw: Raw, ask: Ask, requests: int) -> list[float]:
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        raw.page(ask)
        samples.append(time.perf_counter() - started)
    return samples


def time_ours(client: httpx.Client, ask: Ask, requests: int) -> list[float]:
    params, samples = ask.params(), []
    for _ in range(requests):
        started = time.perf_counter()
        answer = client.get(API, params=params)
        samples.append(time.perf_counter() - started)
        if answer.status_code != 200:
            raise RuntimeError(f"{ask.name}: {answer.status_code} {answer.text[:300]}")
    return samples


def same_page(client: httpx.Client, raw: Raw, ask: Ask) -> int:
    """Ours and the limit give the same entries (the limit's SQL is the app's); their number."""
    answer = client.get(API, params=ask.params())
    answer.raise_for_status()
    body = answer.json()
    ours = [entry["id"] for entry in body["results"]]
    rows = raw.page(ask)
    theirs = [row[1] for row in rows[:PAGE]]
    if ours != theirs or (body["cursor"] is None) != (len(rows) <= PAGE):
        raise RuntimeError(f"{ask.name}: medialib and the plain SQL give different pages")
    return len(ours)


def ms(seconds: float) -> float:
    return seconds * 1000


def p50(samples: Sequence[float]) -> float:
    return ms(statistics.median(samples))


def p99(samples: Sequence[float]) -> float:
    return ms(statistics.quantiles(samples, n=100, method="inclusive")[98])


@dataclass
class Figures:
    """One query's samples on one backend, round by round."""

    rows: int
    raw: list[list[float]] = field(default_factory=list)
    ours: list[list[float]] = field(default_factory=list)

    def ratios(self, stat: Callable[[Sequence[float]], float]) -> list[float]:
        return [stat(o) / stat(r) for r, o in zip(self.raw, self.ours, strict=True)]

    def summary(self) -> dict[str, Any]:
        raw = [s for samples in self.raw for s in samples]
        ours = [s for samples in self.ours for s in samples]
        ratio_p50, ratio_p99 = self.ratios(p50), self.ratios(p99)
        return {
            "rows": self.rows,
            "raw_p50_ms": round(p50(raw), 2),
            "raw_p99_ms": round(p99(raw), 2),
            "ours_p50_ms": round(p50(ours), 2),
            "ours_p99_ms": round(p99(ours), 2),
            "ratio_p50": round(statistics.median(ratio_p50), 2),
            "ratio_p99": round(statistics.median(ratio_p99), 2),
            "ratio_p50_rounds": [round(r, 2) for r in ratio_p50],
            "ratio_p99_rounds": [round(r, 2) for r in ratio_p99],
            "target_met": p99(ours) < TARGET_P99_MS,
        }


def measure(library: Library, args: argparse.Namespace) -> dict[str, Figures]:
    """A server on the library, then the rounds: per query the limit, then ours."""
    home = Path(tempfile.mkdtemp(prefix="medialib-bench-browse-"))
    env = {"MEDIALIB_DATABASE_URL": library.url, "MEDIALIB_RATE_LIMIT": "0"}
    server = ServerProcess(home, env=env)
    token = server.run("token", "create", "--project", PROJECT, "--scope", "public-api:read")
    server.start("serve", "--port", str(server.port), "--no-worker", ready="Uvicorn running on")
    raw = library.raw()
    headers = {"Authorization": f"Bearer {token.split()[-1]}"}
    try:
        with httpx.Client(base_url=server.url, headers=headers, timeout=120) as client:
            queries = asks(client, raw, args.entries)
            figures = {ask.name: Figures(same_page(client, raw, ask)) for ask in queries}
            if args.explain:
                for ask in queries:
                    print(f"\n-- {library.name}: {ask.name}\n{raw.explain(ask)}", flush=True)
            for ask in queries:  # warm both up: caches, prepared statements
                time_raw(raw, ask, 5)
                time_ours(client, ask, 5)
            print_header(library.name)
            for round_no in range(1, args.rounds + 1):
                for ask in queries:
                    found = figures[ask.name]
                    found.raw.append(time_raw(raw, ask, args.requests))
                    found.ours.append(time_ours(client, ask, args.requests))
                    print_round(ask.name, round_no, found)
    finally:
        raw.close()
        server.stop()
        shutil.rmtree(home, ignore_errors=True)
    return figures


# --- Reporting ---------------------------------------------------------------------------------


def print_build(backend: str, count: int, built: dict[str, float] | None) -> None:
    if built is None:
        print(f"{backend}: library of {count:,} entries (cached)", flush=True)
        return
    steps = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in built.items())
    per_20k = built["rows"] / count * 20_000
    print(
        f"{backend}: library of {count:,} entries built in {sum(built.values()):.1f} s ({steps};"
        f" rows {per_20k:.2f} s per 20,000)",
        flush=True,
    )


def print_header(backend: str) -> None:
    print(f"\n{backend}: latency in ms of a page of {PAGE}; raw = plain SQL, same driver")
    print(
        f"{'query':<28}{'round':>5}{'raw p50':>9}{'raw p99':>9}{'ours p50':>10}{'ours p99':>10}"
        f"{'ratio p50':>11}{'ratio p99':>11}"
    )


def print_round(name: str, round_no: int, found: Figures) -> None:
    raw, ours = found.raw[-1], found.ours[-1]
    print(
        f"{name:<28}{round_no:>5}{p50(raw):>9.2f}{p99(raw):>9.2f}{p50(ours):>10.2f}"
        f"{p99(ours):>10.2f}{p50(ours) / p50(raw):>11.2f}{p99(ours) / p99(raw):>11.2f}",
        flush=True,
    )


def print_summary(backend: str, summaries: dict[str, dict[str, Any]]) -> None:
    print(f"\n{backend}: all rounds (p50, p99 over every request; ratios: median of the rounds)")
    print(
        f"{'query':<28}{'rows':>5}{'raw p50':>9}{'raw p99':>9}{'ours p50':>10}{'ours p99':>10}"
        f"{'ratio p50':>11}{'ratio p99':>11}  target p99 < {TARGET_P99_MS:.0f} ms"
    )
    for name, s in summaries.items():
        verdict = "met" if s["target_met"] else "NOT MET"
        print(
            f"{name:<28}{s['rows']:>5}{s['raw_p50_ms']:>9.2f}{s['raw_p99_ms']:>9.2f}"
            f"{s['ours_p50_ms']:>10.2f}{s['ours_p99_ms']:>10.2f}{s['ratio_p50']:>11.2f}"
            f"{s['ratio_p99']:>11.2f}  {verdict}"
        )
        rounds = ", ".join(f"{r:.2f}" for r in s["ratio_p99_rounds"])
        print(f"{'':<28}ratio p99 by round: {rounds}")


# --- The run -----------------------------------------------------------------------------------


def libraries(args: argparse.Namespace) -> list[Library]:
    key = f"{args.entries}_{head_revision()}_v{DATA_VERSION}"
    found: list[Library] = []
    if args.backend in ("sqlite", "both"):
        name = "library-browse.db" if args.no_cache else f"library-browse-{key}.db"
        found.append(SqliteLibrary(CACHE / name))
    if args.backend in ("postgres", "both"):
        name = "medialib_bench_browse" if args.no_cache else f"medialib_bench_browse_{key}"
        found.append(PostgresLibrary(name, args.postgres_admin_url))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200, help="per query per round")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--no-cache", action="store_true", help="build for this run, drop after")
    parser.add_argument("--explain", action="store_true", help="print each query's plan")
    parser.add_argument("--postgres-admin-url", default=POSTGRES_ADMIN_URL)
    args = parser.parse_args()
    if args.entries < 10_000 or args.requests < 2:
        parser.error("at least 10000 entries (page 50 must exist) and 2 requests")

    result: dict[str, Any] = {"entries": args.entries, "rounds": args.rounds}
    result |= {"requests": args.requests, "target_p99_ms": TARGET_P99_MS, "backends": {}}
    for library in libraries(args):
        try:
            built = library.build(args.entries)
            print_build(library.name, args.entries, built)
            summaries = {n: f.summary() for n, f in measure(library, args).items()}
        finally:
            if args.no_cache:
                library.drop()
        print_summary(library.name, summaries)
        result["backends"][library.name] = {"build_seconds": built, "queries": summaries}
    met = all(s["target_met"] for b in result["backends"].values() for s in b["queries"].values())
    print(f"\ntarget p99 < {TARGET_P99_MS:.0f} ms for every query: {'met' if met else 'NOT MET'}")
    print(json.dumps({"benchmark": "library_browse", **result, "target_met": met}))


if __name__ == "__main__":
    main()
