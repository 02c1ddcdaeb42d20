"""SIGKILL the server in the middle of a job, start it again: the job finishes, and every item
is in the library exactly once. The embedded default (SQLite, local runner) is what one
machine runs; the many-process version of this test runs on PostgreSQL with the scale-out."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from medialib.auth.tokens import create_token
from medialib.bootstrap import Runtime, prepare
from medialib.db.tables import media_entries
from medialib.library.projects import webhook_secret
from medialib.settings import Settings
from tests.support import media
from tests.support.origin import Origin
from tests.support.process import ServerProcess
from tests.support.webhooks import Receiver

ITEMS = 64
HELD = range(32, 64)  # the items whose downloads hang until the server has been killed


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[ServerProcess]:
    process = ServerProcess(
        tmp_path / "home",
        env={
            "MEDIALIB_FETCH_ALLOW": "127.0.0.1/32",
            "MEDIALIB_FETCH_RETRY_BASE": "0.01",
            # Every download at once (each process takes a share of these), so the held ones
            # cannot keep the free ones waiting.
            "MEDIALIB_FETCH_PER_HOST": "128",
            "MEDIALIB_FETCH_CONCURRENCY": "128",
            # Chunks of 16: the free items' chunks finish while the held ones wait.
            "MEDIALIB_IMPORT_CHUNK_SIZE": "16",
            "MEDIALIB_WORKER_CONCURRENCY": "4",
        },
    )
    process.env.pop("MEDIALIB_DATABASE_URL", None)
    yield process
    process.stop()


def _children(server: ServerProcess) -> list[int]:
    assert server.process is not None
    found = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text()
    return [int(pid) for pid in found.split()]


async def _gone(pids: list[int]) -> None:
    async with asyncio.timeout(30):
        while any(Path(f"/proc/{pid}").exists() for pid in pids):
            await asyncio.sleep(0.02)


async def _done(client: httpx.AsyncClient, job_id: str) -> int:
    response = await client.get("/api/2026-05/import/images/status", params={"id": job_id})
    done: int = response.json()["progress"]["done"]
    return done


async def test_a_killed_server_finishes_the_job_after_a_restart(
    server: ServerProcess, origin: Origin
) -> None:
    settings = Settings(home=server.home)
    runtime = Runtime.from_settings(settings)
    await prepare(runtime)
    _, token = await create_token(runtime.db, "demo", ["public-api:write"])
    receiver = await Receiver(secret=await webhook_secret(runtime.db, "demo")).start()
    gate, prefix = asyncio.Event(), os.urandom(4).hex()
    items = []
    for i in range(ITEMS):
        name = f"{prefix}/{i}.jpg"
        url = (
            origin.gated(name, media.jpeg(), gate) if i in HELD else origin.file(name, media.jpeg())
        )
        items.append({"url": url, "id": f"item-{i}", "fileName": f"p{i}", "metadata": {}})
    server.serve("--workers", "1")
    client = httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    body = {"systemName": "crash", "webhook": receiver.url(), "images": items}
    job_id = (await client.post("/api/2026-05/import/images", json=body)).json()["id"]

    # Wait until the free items are recorded and every held download has arrived at the origin:
    # the server is then in the middle of the job, with work in flight.
    async with asyncio.timeout(60):
        while await _done(client, job_id) < ITEMS - len(HELD) or sum(
            origin.hits[f"{prefix}/{i}.jpg"] for i in HELD
        ) < len(HELD):
            await asyncio.sleep(0.02)
    workers = _children(server)
    assert len(workers) == 1
    server.kill()
    await _gone(workers)  # the worker processes die with their server
    gate.set()
    server.serve("--workers", "1")

    delivery = await receiver.delivered(timeout=60)
    status = (await client.get("/api/2026-05/import/images/status", params={"id": job_id})).json()

    assert delivery.body["state"] == "success"
    assert status["progress"] == {
        "total": ITEMS,
        "done": ITEMS,
        "success": ITEMS,
        "skipped": 0,
        "failed": 0,
    }
    async with runtime.db.read() as conn:
        rows = (
            (
                await conn.execute(
                    sa.select(media_entries.c.external_id).where(
                        media_entries.c.system_name == "crash"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert sorted(rows) == sorted(f"item-{i}" for i in range(ITEMS))
    assert all(origin.hits[f"{prefix}/{i}.jpg"] == 2 for i in HELD)
    await client.aclose()
    await receiver.stop()
    await runtime.close()
