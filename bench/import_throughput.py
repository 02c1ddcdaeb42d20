"""Images per second through POST /import/images, from the POST to `finished`, beside the raw
download limit of the same machine (curl, same URLs, same concurrency, to disk) as a ratio.

    python bench/import_throughput.py [--images 2000] [--concurrency 32]

Starts nginx with ~100 KB JPEGs, a fresh `medialib serve` (embedded default), and a webhook
receiver; posts the images in jobs of 1000 and waits for every job's webhook.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.process import ServerProcess
from tests.support.webhooks import Receiver

from bench.origin import Nginx, aiohttp_seconds, curl_seconds, jpeg_files

TARGET_PER_HOUR = 300_000
TARGET_RATIO = 0.5
JOB_SIZE = 1000


async def _import(server: ServerProcess, token: str, urls: list[str]) -> float:
    receiver = await Receiver().start()
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=120) as client:
        started = time.perf_counter()
        jobs = []
        for start in range(0, len(urls), JOB_SIZE):
            items = [
                {
                    "url": url,
                    "id": f"bench-{start + i}",
                    "fileName": f"p{start + i}",
                    "metadata": {},
                }
                for i, url in enumerate(urls[start : start + JOB_SIZE])
            ]
            body = {"systemName": "bench", "webhook": receiver.url(), "images": items}
            response = await client.post("/api/2026-05/import/images", json=body)
            response.raise_for_status()
            jobs.append(response.json()["id"])
        for _ in jobs:
            await receiver.delivered(timeout=1800)
        elapsed = time.perf_counter() - started
        for job_id in jobs:
            status = (
                await client.get("/api/2026-05/import/images/status", params={"id": job_id})
            ).json()
            progress = status["progress"]
            if progress["success"] != progress["total"]:
                failed = [i for i in status["images"] if i["state"] != "success"][:3]
                raise SystemExit(f"job {job_id} did not import everything: {progress} {failed}")
    await receiver.stop()
    return elapsed


def _medialib_seconds(
    urls: list[str], concurrency: int, postgres_admin: str | None, workers: int | None
) -> float:
    """One import on a fresh installation: `medialib serve` as it comes, or with `workers`, an
    API-only server beside that many `medialib worker` processes."""
    database = _create_database(postgres_admin) if postgres_admin else None
    with tempfile.TemporaryDirectory(prefix="medialib-bench-") as home:
        env = {
            "MEDIALIB_FETCH_ALLOW": "127.0.0.1/32",
            "MEDIALIB_FETCH_CONCURRENCY": str(concurrency),
            "MEDIALIB_FETCH_PER_HOST": str(concurrency),
        }
        if database:
            env["MEDIALIB_DATABASE_URL"] = database
        server = ServerProcess(Path(home), env=env)
        processes = [server]
        try:
            server.run("migrate")
            token = server.run(
                "token", "create", "--project", "demo", "--scope", "public-api:write"
            )
            if workers is None:
                server.serve()
            else:
                # The machine's fetch limits, shared out as `serve` does.
                share = {
                    "MEDIALIB_FETCH_CONCURRENCY": str(-(-concurrency // workers)),
                    "MEDIALIB_FETCH_PER_HOST": str(-(-concurrency // workers)),
                }
                server.serve("--no-worker")
                for _ in range(workers):
                    worker = ServerProcess(Path(home), env=env | share)
                    worker.start("worker", ready="ready")
                    processes.append(worker)
            return asyncio.run(_import(server, token, urls))
        finally:
            for process in processes:
                process.stop()
            if database and postgres_admin:
                _drop_database(postgres_admin, database)


def _create_database(admin: str) -> str:
    name = f"medialib_bench_{os.urandom(4).hex()}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.rsplit("/", 1)[0] + f"/{name}"


def _drop_database(admin: str, database: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database.rsplit("/", 1)[1]}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="Each figure is a median.")
    parser.add_argument(
        "--postgres",
        default=None,
        help="a PostgreSQL URL to make a fresh database per round on (default: SQLite)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes beside an API-only server (default: plain `medialib serve`)",
    )
    args = parser.parse_args()

    nginx = Nginx()
    names = jpeg_files(nginx.files, args.images)
    nginx.start()
    urls = [nginx.url(name) for name in names]
    mean_size = sum((nginx.files / n).stat().st_size for n in names) / len(names)
    measured: dict[str, list[float]] = {"medialib": [], "aiohttp": [], "curl": []}
    try:
        # Interleaved rounds, each after the disk's write-back of the one before: this machine
        # is shared, and a single figure of any of the three can be off by half.
        for _ in range(args.rounds):
            os.sync()
            measured["medialib"].append(
                _medialib_seconds(urls, args.concurrency, args.postgres, args.workers)
            )
            os.sync()
            measured["aiohttp"].append(aiohttp_seconds(urls, args.concurrency))
            os.sync()
            measured["curl"].append(curl_seconds(urls, args.concurrency))
    finally:
        nginx.stop()

    rate, plain_rate, raw_rate = (
        args.images / statistics.median(measured[k]) for k in ("medialib", "aiohttp", "curl")
    )
    backend = "PostgreSQL (procrastinate)" if args.postgres else "SQLite"
    processes = (
        f"{args.workers} worker process(es) + API" if args.workers is not None else "medialib serve"
    )
    print(
        f"image import, {args.images} JPEGs of ~{mean_size / 1000:.0f} KB from nginx on "
        f"127.0.0.1, {args.concurrency} downloads at once, {os.cpu_count()} cores, {backend}, "
        f"{processes}, local folder storage, median of {args.rounds}"
    )
    rounds = ", ".join(f"{args.images / s:,.0f}" for s in measured["medialib"])
    print(f"  medialib, POST to finished:         {rate:8,.0f} images/s ({rate * 3600:,.0f}/hour)")
    print(f"    rounds: {rounds}")
    print(f"  plain download, aiohttp, to disk:   {plain_rate:8,.0f} images/s")
    print(f"  raw limit, curl --parallel-max {args.concurrency}:  {raw_rate:8,.0f} images/s")
    print(f"  ratio medialib / plain download:    {rate / plain_rate:8.2f}")
    print(f"  ratio medialib / curl:              {rate / raw_rate:8.2f}")
    hour_ok = "meets" if rate * 3600 >= TARGET_PER_HOUR else "MISSES"
    ratio_ok = "meets" if rate / plain_rate >= TARGET_RATIO else "MISSES"
    print(f"  target {TARGET_PER_HOUR:,}/hour: {hour_ok}; target ratio {TARGET_RATIO}: {ratio_ok}")


if __name__ == "__main__":
    main()
