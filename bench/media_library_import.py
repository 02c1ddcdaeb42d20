"""Entries per second through POST /import/mediaLibrary, beside plain SQL writing the same rows
in the same run.

    python bench/media_library_import.py [--requests 20] [--batch 1000] [--rounds 5] \
        [--postgres ADMIN_URL] [--profile]

Rounds are interleaved, the limit first: plain SQL, API, plain SQL, API, ..., and a last plain
SQL run, so every API run sits between two limit runs; each runs on a fresh installation
(`medialib migrate`: the same tables, indexes and full-text index), and the server is stopped
before the next limit is measured. The API run is `medialib serve` (embedded default, `make
serve` settings) taking REQUESTS requests of BATCH entries one after the other; every entry's
object is stored beforehand (a real 1600x900 JPEG, as registering checks each object's size,
type and dimensions). The plain SQL run writes what the API writes for the same entries (the
`assets`, `media_entries` and `entry_keys` rows and, on SQLite, the entries' words in the full-text
index with medialib's own statement, one transaction per batch, with the stdlib's sqlite3 or
psycopg) and nothing else: no checks, no HTTP.

Printed: every round's figures, and the median of the per-round ratios (an API run against the
mean of the plain SQL runs on either side of it). With `--profile`, py-spy samples the server
during each API run (`pip install -e '.[bench]'`; every running thread, so SQLite's own work in
the writer thread counts) and the CPU microseconds per entry of each step are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import io
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.process import ServerProcess

from bench.import_throughput import create_database, drop_database
from bench.profiling import Steps, cpu_seconds, peak_mb, print_steps, profiled
from medialib.db.search_index import INDEX_NEW_ENTRIES_SQL

TARGET_PER_SECOND = 20_000


def _picture() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1600, 900), (120, 90, 60)).save(out, "JPEG", quality=90)
    return out.getvalue()


PICTURE = _picture()


def _entries(count: int, batch: int) -> list[list[dict[str, Any]]]:
    entries = [
        {
            "id": f"bench-{i}",
            "systemName": "bench-archive",
            "externalId": f"archive-{i}",
            "mediaType": "image",
            "asset": {
                "key": f"2026/11/23/{uuid.uuid4()}.jpeg",
                "size": len(PICTURE),
                "width": 1600,
                "height": 900,
                "filename": f"picture-{i}.jpeg",
                "mimeType": "image/jpeg",
            },
            "metadata": {"title": f"Picture {i}", "caption": "From the archive"},
        }
        for i in range(count)
    ]
    return [entries[i : i + batch] for i in range(0, count, batch)]


@contextmanager
def _installation(postgres_admin: str | None) -> Iterator[tuple[ServerProcess, str, str | None]]:
    """A fresh home (and database): migrated, with a write token for project `demo`."""
    database = create_database(postgres_admin) if postgres_admin else None
    try:
        with tempfile.TemporaryDirectory(prefix="medialib-bench-") as home:
            env = {"MEDIALIB_DATABASE_URL": database} if database else {}
            server = ServerProcess(Path(home), env=env)
            server.run("migrate")
            token = server.run(
                "token", "create", "--project", "demo", "--scope", "public-api:write"
            )
            yield server, token, database
    finally:
        if database and postgres_admin:
            drop_database(postgres_admin, database)


def store_pictures(home: Path, batches: list[list[dict[str, Any]]]) -> None:
    """Every entry's object in the home's storage folder, written out to the disk."""
    for entry in (e for batch in batches for e in batch):
        path = home / "storage" / entry["asset"]["key"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(PICTURE)
    os.sync()


# Where a sampled stack's CPU goes (bench/profiling.py).
STEPS: Steps = (
    ("image facts (Pillow)", ("PIL/", "medialib/media/probe")),
    ("object heads (storage)", ("medialib/media/storage",)),
    ("database", ("sqlalchemy/", "sqlite3", "psycopg", "medialib/db/")),
    ("JSON", ("orjson", "json/", "read_json (medialib/api", "medialib/api/responses")),
    (
        "entry checks",
        ("pydantic", "medialib/library/metadata", "medialib/library/models", "medialib/library/"),
    ),
    ("results", ("medialib/api/presenters",)),
    ("HTTP server", ("uvicorn/", "starlette/", "fastapi/", "h11/", "httptools", "medialib/api/")),
)


def _api_seconds(
    postgres_admin: str | None,
    batches: list[list[dict[str, Any]]],
    profile: Path | None = None,
    samples: collections.Counter[str] | None = None,
) -> float:
    with _installation(postgres_admin) as (server, token, _):
        store_pictures(server.home, batches)
        server.serve()
        assert server.process is not None
        spied = samples if samples is not None else collections.Counter()
        pid = server.process.pid
        try:
            before = cpu_seconds(pid)
            with profiled([pid], profile, spied, STEPS, gil=False):
                seconds = asyncio.run(_post_all(server.url, token, batches))
            after, peak = cpu_seconds(pid), peak_mb(pid) or 0.0
            entries = sum(len(batch) for batch in batches)
            user, system = ((b - a) / entries * 1e6 for a, b in zip(before, after, strict=True))
            print(
                f"  server: CPU per entry {user:.0f} us user, {system:.0f} us system; "
                f"peak resident memory {peak:.0f} MB",
                flush=True,
            )
            return seconds
        finally:
            server.stop()


async def _post_all(url: str, token: str, batches: list[list[dict[str, Any]]]) -> float:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    bodies = [json.dumps({"mediaLibraryEntries": b}).encode() for b in batches]
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=300) as client:
        started = time.perf_counter()
        for body in bodies:
            response = await client.post("/api/2026-05/import/mediaLibrary", content=body)
            response.raise_for_status()
            failed = [r for r in response.json()["results"] if not r["ok"]]
            if failed:
                raise SystemExit(f"entries were refused: {failed[:3]}")
        return time.perf_counter() - started


# What the API writes for each entry, as plain SQL.
ASSET_SQL = (
    "INSERT INTO assets (key, project, mime_type, size, sha256, revoked, created_at)"
    " VALUES ({p}, 'demo', {p}, {p}, NULL, {false}, {p})"
)
ENTRY_SQL = (
    "INSERT INTO media_entries (project, id, media_type, system_name, external_id, asset,"
    " metadata, translations, version, archived, revoked, revoke_note, created_at, updated_at)"
    " VALUES ('demo', {p}, {p}, {p}, {p}, {p}, {p}, '[]', 1, {false}, {false}, NULL, {p}, {p})"
)
KEY_SQL = (
    "INSERT INTO entry_keys (project, entry_id, key, created_at) VALUES ('demo', {p}, {p}, {p})"
)


def _rows(batch: list[dict[str, Any]], now: Any) -> tuple[list[Any], list[Any], list[Any]]:
    assets = [(e["asset"]["key"], e["asset"]["mimeType"], e["asset"]["size"], now) for e in batch]
    entries = [
        (
            e["id"],
            e["mediaType"],
            e["systemName"],
            e["externalId"],
            json.dumps(e["asset"]),
            json.dumps(e["metadata"]),
            now,
            now,
        )
        for e in batch
    ]
    keys = [(e["id"], e["asset"]["key"], now) for e in batch]
    return assets, entries, keys


def _plain_seconds(postgres_admin: str | None, batches: list[list[dict[str, Any]]]) -> float:
    with _installation(postgres_admin) as (server, _, database):
        os.sync()
        if database:
            return _plain_postgres_seconds(database, batches)
        return _plain_sqlite_seconds(server.home / "medialib.db", batches)


def _plain_sqlite_seconds(path: Path, batches: list[list[dict[str, Any]]]) -> float:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    sql = [s.format(p="?", false="0") for s in (ASSET_SQL, ENTRY_SQL, KEY_SQL)]
    started = time.perf_counter()
    for batch in batches:
        rows = _rows(batch, time.strftime("%Y-%m-%d %H:%M:%S.000000"))
        db.execute("BEGIN IMMEDIATE")
        for statement, values in zip(sql, rows, strict=True):
            db.executemany(statement, values)
        db.execute(INDEX_NEW_ENTRIES_SQL)  # their words, as medialib adds them
        db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed


def _plain_postgres_seconds(url: str, batches: list[list[dict[str, Any]]]) -> float:
    sql = [s.format(p="%s", false="false") for s in (ASSET_SQL, ENTRY_SQL, KEY_SQL)]
    with psycopg.connect(url, autocommit=True) as db:
        started = time.perf_counter()
        for batch in batches:
            rows = _rows(batch, time.strftime("%Y-%m-%d %H:%M:%S+00"))
            with db.transaction(), db.cursor() as cursor:
                for statement, values in zip(sql, rows, strict=True):
                    cursor.executemany(statement, values)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--postgres",
        default=None,
        help="a PostgreSQL URL to make a fresh database per run on (default: SQLite)",
    )
    parser.add_argument("--profile", action="store_true", help="sample the server with py-spy")
    args = parser.parse_args()
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    samples: collections.Counter[str] = collections.Counter()

    batches = _entries(args.requests * args.batch, args.batch)
    total = args.requests * args.batch
    plain: list[float] = []
    api: list[float] = []

    for number in range(1, args.rounds + 1):
        plain.append(_plain_seconds(args.postgres, batches))
        profile = out / f"registrations-round{number}" if args.profile else None
        api.append(_api_seconds(args.postgres, batches, profile, samples))
        print(
            f"round {number}: plain SQL {total / plain[-1]:7,.0f}/s, API {total / api[-1]:7,.0f}/s",
            flush=True,
        )
    plain.append(_plain_seconds(args.postgres, batches))
    print(f"last plain SQL: {total / plain[-1]:,.0f}/s", flush=True)

    ratios = [
        (total / api[i]) / ((total / plain[i] + total / plain[i + 1]) / 2)
        for i in range(args.rounds)
    ]
    backend = "PostgreSQL (psycopg)" if args.postgres else "SQLite (sqlite3)"
    print(
        f"\nmedia library import, {args.requests} requests x {args.batch} entries one after the "
        f"other, {backend}, {args.rounds} interleaved rounds"
    )
    rate = total / statistics.median(api)
    print(f"  API (HTTP, checks, stored objects read, writes): {rate:8,.0f} entries/s (median)")
    limit = total / statistics.median(plain)
    print(f"  plain SQL, the same rows (median):               {limit:8,.0f} entries/s")
    shown = ", ".join(f"{r:.2f}" for r in ratios)
    print(f"  API / plain SQL, median of rounds: {statistics.median(ratios):.2f}  ({shown})")
    met = "met" if rate >= TARGET_PER_SECOND else "NOT MET"
    print(f"  target {TARGET_PER_SECOND:,} entries/s: {met}")
    if args.profile:
        print_steps(samples, total * args.rounds, "entry", out)


if __name__ == "__main__":
    main()
