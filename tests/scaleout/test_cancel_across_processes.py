"""A cancel reaches other processes (issue 29): the API process (`serve --no-worker`) cancels a
job whose chunks two `medialib worker` processes on PostgreSQL are downloading from a slow
origin; the workers learn of it from the database alone, abort their downloads within a second,
and never ask the origin for the job's items again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.support import media, postgres
from tests.support.origin import Origin
from tests.support.process import ServerProcess
from tests.support.s3 import MotoS3
from tests.support.scaled_out import scaled_out_env
from tests.support.webhooks import Receiver

pytestmark = pytest.mark.postgres

ITEMS = 40


def _chunks_left(database: str, job_id: str) -> int:
    """The job's chunk tasks still queued, running or waiting for a retry."""
    with psycopg.connect(postgres.plain_url(database)) as conn:
        row = conn.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'process_items'"
            " AND status IN ('todo', 'doing') AND args->>'job_id' = %s",
            (job_id,),
        ).fetchone()
    return int(row[0]) if row else 0


@pytest.fixture
async def archive() -> AsyncIterator[Origin]:
    server = await Origin(cancel_on_disconnect=True).start()
    yield server
    await server.stop()


async def test_workers_in_other_processes_stop_the_cancelled_jobs_downloads(
    tmp_path: Path, database: str, s3_server: MotoS3, archive: Origin
) -> None:
    env = {
        **scaled_out_env(database, s3_server),
        "MEDIALIB_IMPORT_CHUNK_SIZE": "10",  # four chunks, for two workers
        "MEDIALIB_RATE_LIMIT": "10000",
    }
    api = ServerProcess(tmp_path / "api", env=env)
    api.run("migrate")
    token = api.run("token", "create", "--project", "demo", "--scope", "public-api:write")
    receiver = await Receiver().start()
    release = asyncio.Event()
    body = media.jpeg(320, 240)
    items = [
        {
            "url": archive.slow(f"{i}.jpg", body, release),
            "id": f"c-{i}",
            "fileName": "p",
            "metadata": {},
        }
        for i in range(ITEMS)
    ]
    workers = [ServerProcess(tmp_path / f"worker-{i}", env=env) for i in range(2)]
    api.serve("--no-worker")
    for worker in workers:
        worker.start("worker", ready="ready")
    client = httpx.AsyncClient(
        base_url=api.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )
    try:
        job = {"systemName": "cancel", "webhook": receiver.url(), "images": items}
        started = await client.post("/api/2026-05/import/images", json=job)
        assert started.status_code == 200, started.text
        job_id = started.json()["id"]
        await archive.seen(lambda: len(archive.starts), 8)  # a host's slots in one process

        answer = await client.post(f"/api/2026-05/import/jobs/{job_id}/cancel")
        cancelled = time.monotonic()
        assert answer.status_code == 200, answer.text
        assert answer.json()["state"] == "failed"
        in_flight = len(archive.starts)
        await archive.seen(lambda: len(archive.aborted), in_flight, timeout=5)
        hook = (await receiver.next()).body
        # A download may still start within a second of the cancel: once that is over, every
        # one that started has been aborted, before the origin is fast and could finish it.
        await asyncio.sleep(max(0.0, cancelled + 1.0 - time.monotonic()))
        await archive.seen(lambda: len(archive.aborted), len(archive.starts), timeout=5)
        release.set()  # the origin is fast again: a retry would reach it now

        # Whatever a worker still had queued for the job finds it finished and fetches nothing.
        async with asyncio.timeout(30):
            while _chunks_left(database, job_id):
                await asyncio.sleep(0.1)
        status = await client.get("/api/2026-05/import/images/status", params={"id": job_id})
    finally:
        await client.aclose()
        for process in (*workers, api):
            process.stop()
        await receiver.stop()

    late = [round(at - cancelled, 2) for _, at in archive.starts if at > cancelled + 1.0]
    assert late == []
    paths = [p for p, _ in archive.starts]
    assert len(set(paths)) == len(paths) < ITEMS
    assert sorted(archive.aborted) == sorted(paths)
    read = status.json()
    assert (read["state"], read["finished"]) == ("failed", True)
    assert read["cancelledAt"]
    assert {i["reasonCode"] for i in read["images"]} == {"cancelled"}
    assert hook["state"] == "failed"
    assert hook["overview"]["failed"] == ITEMS
