"""Metrics over real processes. The embedded default: `medialib serve` with two worker processes
on SQLite; its /metrics sums what every process counted (the downloads happen in the workers
only), the counts equal the job's, and a restart starts the counters afresh. Scaled out:
`serve --no-worker` and two `medialib worker` processes on PostgreSQL and S3, each worker with a
/metrics of its own; their items add up to the job's. promtool passes on every exposition."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import media
from tests.support.imports import item
from tests.support.metrics import promtool_check, scrape, summed
from tests.support.origin import Origin
from tests.support.process import ServerProcess, free_port
from tests.support.s3 import MotoS3
from tests.support.scaled_out import scaled_out_env

ITEMS = 12
BASE_ENV = {"MEDIALIB_FETCH_ALLOW": "127.0.0.1/32", "MEDIALIB_RATE_LIMIT": "10000"}


async def run_job(server: ServerProcess, token: str, origin: Origin) -> dict[str, Any]:
    """A job of ITEMS pictures and one missing file, to its end; its status."""
    prefix = uuid.uuid4().hex[:8]
    items = [
        item(origin.file(f"{prefix}/{i}.jpg", media.jpeg(30, 20, Artist=f"{prefix}{i}")), f"p{i}")
        for i in range(ITEMS)
    ] + [item(origin.status(f"{prefix}/gone.jpg", 404), "gone")]
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=60) as client:
        body = {"systemName": "metrics", "images": items}
        started = await client.post("/api/2026-05/import/images", json=body)
        assert started.status_code == 200, started.text
        job_id = started.json()["id"]
        async with asyncio.timeout(120):
            while True:
                status = await client.get(
                    "/api/2026-05/import/images/status", params={"id": job_id}
                )
                if status.json()["finished"]:
                    result: dict[str, Any] = status.json()
                    return result
                await asyncio.sleep(0.1)


def expected(status: dict[str, Any]) -> Counter[tuple[str, str, str]]:
    return Counter(("image", i["state"], i.get("reasonCode", "")) for i in status["images"])


async def test_serve_sums_its_worker_processes_and_starts_afresh(
    tmp_path: Path, origin: Origin
) -> None:
    # A port meant for `medialib worker`: the server's own worker processes never take it.
    unused = free_port()
    server = ServerProcess(tmp_path / "home", env=BASE_ENV | {"MEDIALIB_METRICS_PORT": str(unused)})
    server.run("migrate")
    token = server.run("token", "create", "--project", "demo", "--scope", "public-api:write")
    server.serve("--workers", "2")
    try:
        server.wait_for("ready", times=2)  # both worker processes
        status = await run_job(server, token, origin)
        exposition = await scrape(server.url)
        with pytest.raises(httpx.ConnectError):
            await scrape(f"http://127.0.0.1:{unused}")
    finally:
        server.stop()

    assert exposition.items() == expected(status)
    assert expected(status)[("image", "failed", "http_404")] == 1
    # Only the worker processes download: their counts reached the server's exposition.
    assert exposition.value("medialib_fetch_bytes_total") > 0
    assert exposition.total("medialib_fetch_duration_seconds_count") >= ITEMS + 1
    assert exposition.value("medialib_import_jobs", state="success") == 1
    assert exposition.total("medialib_http_requests_total") >= 2  # the server's own
    promtool_check(exposition.text)

    server.serve("--workers", "1")  # a new start: counters from zero, the database as it was
    try:
        again = await scrape(server.url)
    finally:
        server.stop()
    assert again.items() == Counter()
    assert again.value("medialib_import_jobs", state="success") == 1


@pytest.mark.postgres
async def test_scaled_out_workers_serve_their_own_metrics(
    tmp_path: Path, database: str, s3_server: MotoS3, origin: Origin
) -> None:
    env = {
        **BASE_ENV,
        **scaled_out_env(database, s3_server),
        "MEDIALIB_METRICS_ALLOW": "127.0.0.1/32",
    }
    api = ServerProcess(tmp_path / "api", env=env)
    api.run("migrate")
    token = api.run("token", "create", "--project", "demo", "--scope", "public-api:write")
    ports = [free_port(), free_port()]
    workers = [
        ServerProcess(tmp_path / f"worker-{i}", env=env | {"MEDIALIB_METRICS_PORT": str(port)})
        for i, port in enumerate(ports)
    ]
    api.serve("--no-worker")
    try:
        for worker in workers:
            worker.start("worker", ready="ready")
        status = await run_job(api, token, origin)
        server = await scrape(api.url)
        apart = [await scrape(f"http://127.0.0.1:{port}") for port in ports]
        transport = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
        async with httpx.AsyncClient(transport=transport) as outsider:
            refused = await outsider.get(f"http://127.0.0.1:{ports[0]}/metrics")
    finally:
        for process in (*workers, api):
            process.stop()

    assert summed(apart) == expected(status)
    assert server.items() == Counter()  # the API process imports nothing itself
    assert server.value("medialib_import_jobs", state="success") == 1
    assert sum(one.value("medialib_fetch_bytes_total") for one in apart) > 0
    # The database's gauges are the server's alone: workers would count the same rows again.
    assert not [one for one in apart if "medialib_import_jobs" in one.families]
    assert refused.status_code == 403
    assert "medialib_" not in refused.text
    for exposition in (server, *apart):
        promtool_check(exposition.text)


def test_a_worker_whose_metrics_port_is_taken_stops_saying_so(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        worker = ServerProcess(tmp_path, env={"MEDIALIB_METRICS_PORT": str(port)})
        done = subprocess.run(
            [sys.executable, "-m", "medialib.cli", "worker"],
            env=worker.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 2
    assert f"MEDIALIB_METRICS_HOST/MEDIALIB_METRICS_PORT: cannot listen on 127.0.0.1:{port}" in (
        done.stderr
    )
    assert "Traceback" not in done.stderr
