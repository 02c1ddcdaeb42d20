"""Throughput of POST /import/mediaLibrary against a real server, beside plain SQL inserts.

Starts `medialib serve` in a fresh home (embedded default unless --database-url is given),
stores one small object per entry, posts REQUESTS requests of BATCH entries each, and prints
entries per second. Beside it: inserting the same rows with plain SQL (sqlite3 executemany, one
transaction per batch, into medialib's own migrated schema: the same tables, indexes and
full-text triggers) in the same run, and the ratio of the two.

    python bench/media_library_import.py [--requests 20] [--batch 1000] [--concurrency 1]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
from PIL import Image

TARGET_PER_SECOND = 5000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _picture() -> bytes:
    """What every entry's object holds: a real 1600x900 JPEG, as registering checks the
    object's size, type and dimensions against what the entry says."""
    out = io.BytesIO()
    Image.new("RGB", (1600, 900), (120, 90, 60)).save(out, "JPEG", quality=90)
    return out.getvalue()


PICTURE = _picture()


def _entries(count: int, batch: int) -> list[list[dict[str, Any]]]:
    entries = []
    for i in range(count):
        key = f"2026/11/23/{uuid.uuid4()}.jpeg"
        entries.append(
            {
                "id": f"bench-{i}",
                "systemName": "bench-archive",
                "externalId": f"archive-{i}",
                "mediaType": "image",
                "asset": {
                    "key": key,
                    "size": len(PICTURE),
                    "width": 1600,
                    "height": 900,
                    "filename": f"picture-{i}.jpeg",
                    "mimeType": "image/jpeg",
                },
                "metadata": {"title": f"Picture {i}", "caption": "From the archive"},
            }
        )
    return [entries[i : i + batch] for i in range(0, count, batch)]


def _store_objects(storage: Path, batches: list[list[dict[str, Any]]]) -> None:
    for batch in batches:
        for entry in batch:
            path = storage / entry["asset"]["key"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(PICTURE)


def _medialib(home: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "medialib.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def _start_server(home: Path, env: dict[str, str], port: int) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "medialib.cli", "serve", "--port", str(port)],
        env={**env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if "Application startup complete" in line:
            return process
    raise RuntimeError("the server did not start")


async def _post_all(
    url: str, token: str, batches: list[list[dict[str, Any]]], concurrency: int
) -> float:
    gate = asyncio.Semaphore(concurrency)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    bodies = [json.dumps({"mediaLibraryEntries": b}).encode() for b in batches]
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=300) as client:

        async def post(body: bytes) -> None:
            async with gate:
                response = await client.post("/api/2026-05/import/mediaLibrary", content=body)
                response.raise_for_status()
                results = response.json()["results"]
                failed = [r for r in results if not r["ok"]]
                assert not failed, failed[:3]

        started = time.perf_counter()
        await asyncio.gather(*(post(body) for body in bodies))
        return time.perf_counter() - started


def _sqlite_rows(batch: list[dict[str, Any]], now: str) -> tuple[list[Any], list[Any]]:
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
    return assets, entries


def _plain_sqlite_seconds(batches: list[list[dict[str, Any]]]) -> float:
    """The same rows into the same tables (medialib's schema, migrated: its indexes and its
    full-text triggers) with the stdlib driver: the floor under the API."""
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        _medialib(home, {**os.environ, "MEDIALIB_HOME": str(home)}, "migrate")
        db = sqlite3.connect(home / "medialib.db", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        started = time.perf_counter()
        for batch in batches:
            assets, entries = _sqlite_rows(batch, time.strftime("%Y-%m-%d %H:%M:%S"))
            db.execute("BEGIN IMMEDIATE")
            db.executemany(
                "INSERT INTO assets (key, project, mime_type, size, sha256, revoked, created_at)"
                " VALUES (?, 'demo', ?, ?, NULL, 0, ?)",
                assets,
            )
            db.executemany(
                "INSERT INTO media_entries (project, id, media_type, system_name, external_id,"
                " asset, metadata, translations, version, archived, revoked, revoke_note,"
                " created_at, updated_at) VALUES ('demo',?,?,?,?,?,?,'[]',1,0,0,NULL,?,?)",
                entries,
            )
            db.execute("COMMIT")
        elapsed = time.perf_counter() - started
        db.close()
        return elapsed


def _plain_postgres_seconds(url: str, batches: list[list[dict[str, Any]]]) -> float:
    """The same rows into copies of the same tables with psycopg, in the same database."""
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("CREATE TEMP TABLE plain_entries (LIKE media_entries INCLUDING ALL)")
        db.execute("CREATE TEMP TABLE plain_assets (LIKE assets INCLUDING ALL)")
        started = time.perf_counter()
        for batch in batches:
            assets, entries = _sqlite_rows(batch, time.strftime("%Y-%m-%d %H:%M:%S+00"))
            with db.transaction(), db.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO plain_assets VALUES (%s, 'demo', %s, %s, NULL, false, %s)",
                    assets,
                )
                cursor.executemany(
                    "INSERT INTO plain_entries VALUES ('demo',%s,%s,%s,%s,%s,%s,'[]',1,false,"
                    "false,NULL,%s,%s)",
                    entries,
                )
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--database-url", default=None, help="e.g. postgresql://… (migrated)")
    args = parser.parse_args()

    batches = _entries(args.requests * args.batch, args.batch)
    with tempfile.TemporaryDirectory(prefix="medialib-bench-") as folder:
        home = Path(folder)
        env = {**os.environ, "MEDIALIB_HOME": str(home)}
        if args.database_url:
            env["MEDIALIB_DATABASE_URL"] = args.database_url
            _medialib(home, env, "migrate")
        _store_objects(home / "storage", batches)
        port = _free_port()
        token = _medialib(
            home, env, "token", "create", "--project", "demo", "--scope", "public-api:write"
        )
        server = _start_server(home, env, port)
        try:
            api_seconds = asyncio.run(
                _post_all(f"http://127.0.0.1:{port}", token, batches, args.concurrency)
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
        if args.database_url:
            sql_seconds = _plain_postgres_seconds(args.database_url, batches)
        else:
            sql_seconds = _plain_sqlite_seconds(batches)

    total = args.requests * args.batch
    api_rate, sql_rate = total / api_seconds, total / sql_seconds
    backend = "postgresql" if args.database_url else "sqlite"
    print(f"media library import, {args.requests} requests x {args.batch} entries, {backend}")
    print(f"  API (HTTP, validation, storage checks, insert): {api_rate:9,.0f} entries/s")
    print(f"  ({args.concurrency} request(s) at a time)")
    driver = "psycopg" if args.database_url else "sqlite3"
    print(f"  plain SQL inserts of the same rows ({driver}): {sql_rate:10,.0f} entries/s")
    print(f"  ratio API / plain SQL:                          {api_rate / sql_rate:9.2f}")
    verdict = "meets" if api_rate >= TARGET_PER_SECOND else "MISSES"
    print(f"  target {TARGET_PER_SECOND:,} entries/s: {verdict}")


if __name__ == "__main__":
    main()
