"""The scaled-out deployment, for real: one API process (`serve --no-worker`) and three
`medialib worker` processes on PostgreSQL and S3 (moto), 3000 images from a local origin, and one
worker SIGKILLed in the middle. Every item must end in the library exactly once, every job must
succeed, and every job's webhook must arrive (duplicates are allowed; they are counted)."""

from __future__ import annotations

import asyncio
import collections
import uuid
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

IMAGES = 3000
JOB_SIZE = 1000
WORKERS = 3


def _env(database: str, s3: MotoS3) -> dict[str, str]:
    return {
        **scaled_out_env(database, s3),
        "MEDIALIB_FETCH_PER_HOST": "16",
        # A dead worker is noticed after 3 s without a heartbeat (30 s in production).
        "MEDIALIB_STALLED_AFTER": "3",
        "MEDIALIB_RATE_LIMIT": "10000",
    }


def _workers_holding_jobs(database: str) -> int:
    with psycopg.connect(postgres.plain_url(database)) as conn:
        row = conn.execute(
            "SELECT count(DISTINCT worker_id) FROM procrastinate_jobs WHERE status = 'doing'"
        ).fetchone()
    return int(row[0]) if row else 0


async def _progress(client: httpx.AsyncClient, job_ids: list[str]) -> int:
    done = 0
    for job_id in job_ids:
        status = await client.get("/api/2026-05/import/images/status", params={"id": job_id})
        done += status.json()["progress"]["done"]
    return done


async def test_three_workers_one_killed_every_item_once(
    tmp_path: Path, database: str, s3_server: MotoS3, origin: Origin
) -> None:
    env = _env(database, s3_server)
    api = ServerProcess(tmp_path / "api", env=env)
    api.run("migrate")
    token = api.run("token", "create", "--project", "demo", "--scope", "public-api:write")
    shown = api.run("project", "show", "demo")
    secret = next(line.split(": ", 1)[1] for line in shown.splitlines() if "secret" in line)
    receiver = await Receiver(secret=secret.strip()).start()
    prefix = uuid.uuid4().hex[:8]
    # Distinct bytes each: identical ones would be deduplicated, and the workers would have
    # almost nothing to do.
    urls = [
        origin.file(f"{prefix}/{i}.jpg", media.jpeg(32, 24, Artist=f"{prefix}-{i}"))
        for i in range(IMAGES)
    ]
    workers = [ServerProcess(tmp_path / f"worker-{i}", env=env) for i in range(WORKERS)]
    api.serve("--no-worker")
    for worker in workers:
        worker.start("worker", ready="ready")
    client = httpx.AsyncClient(
        base_url=api.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )
    try:
        job_ids = []
        for start in range(0, IMAGES, JOB_SIZE):
            items = [
                {"url": url, "id": f"scale-{start + i}", "fileName": "p", "metadata": {}}
                for i, url in enumerate(urls[start : start + JOB_SIZE])
            ]
            body = {"systemName": "scale", "webhook": receiver.url(), "images": items}
            response = await client.post("/api/2026-05/import/images", json=body)
            assert response.status_code == 200, response.text
            job_ids.append(response.json()["id"])

        # In the middle of the import, while every worker holds jobs, one dies without a word.
        async with asyncio.timeout(120):
            while (
                await _progress(client, job_ids) < IMAGES // 5
                or _workers_holding_jobs(database) < WORKERS
            ):
                await asyncio.sleep(0.1)
        workers[0].kill()

        delivered: set[str] = set()
        try:
            async with asyncio.timeout(240):
                while delivered != set(job_ids):
                    delivered.add((await receiver.delivered(timeout=240)).body["id"])
        except TimeoutError:
            said = "".join(line for worker in workers[1:] for line in list(worker.output)[-40:])
            pytest.fail(
                f"{len(delivered)} of {len(job_ids)} jobs finished; the workers said:\n{said}"
            )
        statuses = [
            (await client.get("/api/2026-05/import/images/status", params={"id": j})).json()
            for j in job_ids
        ]
    finally:
        await client.aclose()
        for process in (*workers, api):
            process.stop()
        await receiver.stop()

    assert [s["state"] for s in statuses] == ["success"] * len(job_ids)
    assert sum(s["progress"]["success"] for s in statuses) == IMAGES
    with psycopg.connect(postgres.plain_url(database)) as conn:
        rows = conn.execute(
            "SELECT external_id, count(*) FROM media_entries WHERE system_name = 'scale' "
            "GROUP BY external_id"
        ).fetchall()
    assert len(rows) == IMAGES
    assert {count for _, count in rows} == {1}
    per_job = collections.Counter(d.body["id"] for d in receiver.deliveries)
    assert set(per_job) == set(job_ids)
    print(f"webhook deliveries per job (duplicates allowed): {dict(per_job)}")
    assert all(d.verified for d in receiver.deliveries)
    survivors = "".join(line for worker in workers[1:] for line in worker.output)
    assert "of a dead worker runs again" in survivors
    assert all(d.headers["webhook-id"] == f"msg_{d.body['id']}" for d in receiver.deliveries)
