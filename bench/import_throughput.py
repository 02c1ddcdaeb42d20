"""Images per second through POST /import/images, from the POST to the last webhook, beside the
raw download limit of the same machine in the same run.

    python bench/import_throughput.py [--images 2000] [--concurrency 32] [--rounds 5] \
        [--postgres URL] [--workers N] [--profile]

nginx serves ~100 KB JPEGs on 127.0.0.1. Rounds are interleaved, limits first: curl, aiohttp,
medialib, curl, aiohttp, medialib, ..., and a last curl, so every import sits between two curl
runs. Each import runs on a fresh `medialib serve` (embedded default, `make serve` settings) that
is stopped before the next limit is measured: nothing of ours runs while a limit is. The clock
starts once the server and the worker processes it starts have said they are ready (a worker
still importing its libraries would be start-up, not throughput). The disk's write-back is
synced before each run.

Printed: every round's figures, and the median of the per-round ratios (an import against the
mean of the curl runs on either side of it; against the aiohttp run of its round). With
`--profile`, py-spy samples every medialib process during each import (`pip install -e
'.[bench]'`) and the CPU microseconds per image of each step are printed: the HTTP client,
sniff and probe, hashing, storage, the database, the HTTP server and status, the task runner.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.process import ServerProcess
from tests.support.webhooks import Receiver

from bench.origin import Nginx, aiohttp_seconds, curl_seconds, jpeg_files
from bench.profiling import Steps, cpu_seconds, print_steps, profiled

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


# Where a sampled stack's CPU goes (bench/profiling.py).
STEPS: Steps = (
    ("sniff and probe", ("medialib/media/probe", "PIL/", "filetype/", "defusedxml")),
    ("hashing", ("hashlib", "_Sink._write (medialib/media/http_fetcher.py")),
    (
        "storage",
        ("medialib/media/storage", "obstore", "shutil.py", "_local (medialib/media/http_fetcher"),
    ),
    ("database", ("sqlalchemy/", "sqlite3", "aiosqlite/", "psycopg", "medialib/db/")),
    (
        "HTTP client (fetch)",
        ("aiohttp/", "medialib/media/fetch", "medialib/media/http_fetcher", "yarl/", "multidict/"),
    ),
    ("HTTP server and status", ("uvicorn/", "starlette/", "fastapi/", "h11/", "medialib/api/")),
    ("task runner", ("medialib/tasks/", "procrastinate/")),
)


def _postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


@contextmanager
def _cpu_time(roles: dict[str, list[int]], cpu: dict[str, tuple[float, float]]) -> Iterator[None]:
    """The user and system CPU time each role's processes spend while the block runs, added to
    `cpu`; the "PostgreSQL" role is every postgres process on the machine (backends started
    during the block count from zero)."""

    def now() -> dict[tuple[str, int], tuple[float, float]]:
        found = {(role, pid): cpu_seconds(pid) for role, pids in roles.items() for pid in pids}
        found |= {("PostgreSQL", pid): cpu_seconds(pid) for pid in _postgres_pids()}
        return found

    before = now()
    yield
    for (role, pid), (user, system) in now().items():
        user_before, system_before = before.get((role, pid), (0.0, 0.0))
        user_sum, system_sum = cpu.get(role, (0.0, 0.0))
        cpu[role] = (user_sum + user - user_before, system_sum + system - system_before)


def _medialib_seconds(
    urls: list[str],
    concurrency: int,
    postgres_admin: str | None,
    workers: int | None,
    profile: Path | None = None,
    samples: collections.Counter[str] | None = None,
    cpu: dict[str, tuple[float, float]] | None = None,
) -> float:
    """One import on a fresh installation: `medialib serve` as it comes, or with `workers`, an
    API-only server beside that many `medialib worker` processes."""
    database = create_database(postgres_admin) if postgres_admin else None
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
                # The import starts when every process is working: a worker process still
                # importing its libraries is start-up, not throughput.
                server.wait_for("ready (pid", times=os.cpu_count() or 1)
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
            pids = [p.process.pid for p in processes if p.process is not None]
            assert server.process is not None
            roles = {"API server": [server.process.pid], "workers": pids[1:]}
            if workers is None:  # `serve` starts its worker processes itself
                roles = {"server": [server.process.pid], "its workers": _children(pids[0])}
                pids += roles["its workers"]
            with (
                profiled(
                    pids, profile, samples if samples is not None else collections.Counter(), STEPS
                ),
                _cpu_time(roles, cpu if cpu is not None else {}),
            ):
                return asyncio.run(_import(server, token, urls))
        finally:
            for process in processes:
                process.stop()
            if database and postgres_admin:
                drop_database(postgres_admin, database)


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def create_database(admin: str) -> str:
    name = f"medialib_bench_{os.urandom(4).hex()}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.rsplit("/", 1)[0] + f"/{name}"


def drop_database(admin: str, database: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database.rsplit("/", 1)[1]}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
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
    parser.add_argument(
        "--profile", action="store_true", help="sample the medialib processes with py-spy"
    )
    args = parser.parse_args()

    nginx = Nginx()
    names = jpeg_files(nginx.files, args.images)
    nginx.start()
    urls = [nginx.url(name) for name in names]
    mean_size = sum((nginx.files / n).stat().st_size for n in names) / len(names)
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    samples: collections.Counter[str] = collections.Counter()
    cpu: dict[str, tuple[float, float]] = {}
    curl: list[float] = []
    plain: list[float] = []
    ours: list[float] = []
    n = args.images
    try:
        for number in range(1, args.rounds + 1):
            os.sync()
            curl.append(curl_seconds(urls, args.concurrency))
            os.sync()
            plain.append(aiohttp_seconds(urls, args.concurrency))
            os.sync()
            profile = out / f"profile-round{number}" if args.profile else None
            ours.append(
                _medialib_seconds(
                    urls, args.concurrency, args.postgres, args.workers, profile, samples, cpu
                )
            )
            print(
                f"round {number}: curl {n / curl[-1]:6,.0f}/s, aiohttp {n / plain[-1]:6,.0f}/s, "
                f"medialib {n / ours[-1]:6,.0f}/s",
                flush=True,
            )
        os.sync()
        curl.append(curl_seconds(urls, args.concurrency))
        print(f"last curl: {n / curl[-1]:,.0f}/s", flush=True)
    finally:
        nginx.stop()

    # An import's rate against the mean rate of the curl runs on either side of it.
    to_curl = [(n / ours[i]) / ((n / curl[i] + n / curl[i + 1]) / 2) for i in range(args.rounds)]
    to_plain = [plain[i] / ours[i] for i in range(args.rounds)]
    backend = "PostgreSQL (procrastinate)" if args.postgres else "SQLite"
    processes = (
        f"{args.workers} worker process(es) + API" if args.workers is not None else "medialib serve"
    )
    print(
        f"\nimage import, {n} JPEGs of ~{mean_size / 1000:.0f} KB from nginx on 127.0.0.1, "
        f"{args.concurrency} downloads at once, {os.cpu_count()} cores, {backend}, {processes}, "
        f"local folder storage, {args.rounds} interleaved rounds"
    )
    rate = n / statistics.median(ours)
    print(f"  medialib, POST to last webhook:   {rate:8,.0f} images/s (median)")
    print(f"  aiohttp to disk (median):         {n / statistics.median(plain):8,.0f} images/s")
    print(f"  curl to disk (median):            {n / statistics.median(curl):8,.0f} images/s")
    shown = ", ".join(f"{r:.2f}" for r in to_curl)
    print(f"  medialib / curl, median of rounds:    {statistics.median(to_curl):.2f}  ({shown})")
    shown = ", ".join(f"{r:.2f}" for r in to_plain)
    print(f"  medialib / aiohttp, median of rounds: {statistics.median(to_plain):.2f}  ({shown})")
    met = "met" if statistics.median(to_curl) >= TARGET_RATIO else "NOT MET"
    print(f"  target: at least {TARGET_RATIO} of curl: {met}")
    images = n * args.rounds
    print("\nCPU time per image, by process (all rounds; /proc/<pid>/stat):")
    for role, (user, system) in cpu.items():
        print(
            f"  {role:12} {(user + system) / images * 1e6:8,.0f} us  (user "
            f"{user / images * 1e6:,.0f}, system {system / images * 1e6:,.0f})"
        )
    if args.profile:
        print_steps(samples, images, "image", out)


if __name__ == "__main__":
    main()
