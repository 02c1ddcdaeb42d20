"""`medialib import` end to end beside the same import posted straight to the API by a minimal
script, in the same run, and what the client itself costs.

    python bench/bulk_client.py [--rows 20000] [--rounds 5] [--size 100000]

nginx (Debian's nginx-light) serves `--rows` distinct JPEGs on 127.0.0.1; a CSV manifest lists
them. Each round, interleaved: the limit first, then ours, each on a fresh `medialib serve`
(embedded default, `make serve` settings but the fetch guard opened to 127.0.0.1) that is stopped
before the next starts, so nothing of ours runs while the limit is measured.

- The limit: a minimal script posts the rows in jobs of 1000 (all at once: 20 jobs are under
  the server's 50) and polls each job's `items=none` status until every job is finished.
- Ours: `medialib import images manifest.csv --quiet` as a user runs it (its defaults: jobs of
  1000, 8 open at once), in its own process; its wall time from start to exit (the report read
  back from the server included) and its CPU time (user + system, from the kernel's accounting
  of the child).

Printed per round: rows/s of each, the ratio ours / limit, and the client's CPU time as a share
of its wall time; then the medians of the per-round figures, every round shown. Target: the
client costs under 5 % of the end-to-end time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.process import ServerProcess

from bench.origin import Nginx, jpeg_files

JOB_SIZE = 1000
TARGET_CPU_SHARE = 0.05
VERSION = "2026-05"


def fresh_server(home: Path) -> tuple[ServerProcess, str]:
    server = ServerProcess(home, env={"MEDIALIB_FETCH_ALLOW": "127.0.0.1/32"})
    token = server.run("token", "create", "--project", "demo", "--scope", "public-api:write")
    server.serve()
    return server, token


async def _post_and_wait(server: ServerProcess, token: str, urls: list[str]) -> float:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=120) as client:
        started = time.perf_counter()
        jobs = []
        for start in range(0, len(urls), JOB_SIZE):
            items = [
                {
                    "url": url,
                    "id": f"row-{start + i}",
                    "fileName": f"{start + i}.jpg",
                    "metadata": {},
                }
                for i, url in enumerate(urls[start : start + JOB_SIZE])
            ]
            body = {"systemName": "bench", "images": items}
            response = await client.post(f"/api/{VERSION}/import/images", json=body)
            response.raise_for_status()
            jobs.append(response.json()["id"])
        waiting = set(jobs)
        while waiting:
            for job_id in sorted(waiting):
                params = {"id": job_id, "items": "none"}
                status = (
                    await client.get(f"/api/{VERSION}/import/images/status", params=params)
                ).json()
                if status["finished"]:
                    if status["progress"]["success"] != status["progress"]["total"]:
                        raise SystemExit(f"job {job_id} did not import everything: {status}")
                    waiting.discard(job_id)
            await asyncio.sleep(0.5)
        return time.perf_counter() - started


def limit_seconds(urls: list[str]) -> float:
    with tempfile.TemporaryDirectory(prefix="medialib-bench-limit-") as home:
        server, token = fresh_server(Path(home))
        try:
            return asyncio.run(_post_and_wait(server, token, urls))
        finally:
            server.stop()


def client_seconds(manifest: Path) -> tuple[float, float]:
    """Wall and CPU seconds of `medialib import` over the manifest, on a fresh server."""
    with tempfile.TemporaryDirectory(prefix="medialib-bench-client-") as home:
        server, token = fresh_server(Path(home))
        state = manifest.with_name(manifest.name + ".medialib-import.sqlite")
        state.unlink(missing_ok=True)
        report = Path(home) / "results.csv"
        try:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            done = subprocess.run(
                [
                    *(sys.executable, "-m", "medialib.cli", "import", "images", str(manifest)),
                    *("--quiet", "--system-name", "bench", "--report", str(report)),
                ],
                env=os.environ | {"MEDIALIB_SERVER": server.url, "MEDIALIB_TOKEN": token},
                capture_output=True,
                text=True,
                check=False,
            )
            wall = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if done.returncode != 0:
                raise SystemExit(
                    f"medialib import failed ({done.returncode}): {done.stderr[-2000:]}"
                )
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            rows = report.read_text().count("\n") - 1
            if rows != len(manifest.read_text().splitlines()) - 1:
                raise SystemExit(f"the report has {rows} rows")
            return wall, cpu
        finally:
            server.stop()
            state.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--size", type=int, default=100_000, help="bytes per JPEG")
    args = parser.parse_args()

    nginx = Nginx()
    names = jpeg_files(nginx.files, args.rows, args.size)
    nginx.start()
    urls = [nginx.url(name) for name in names]
    work = Path(tempfile.mkdtemp(prefix="medialib-bench-manifest-"))
    manifest = work / "archive.csv"
    manifest.write_text(
        "url,id,fileName,metadata.title\n"
        + "".join(f"{url},row-{i},{i}.jpg,Photo {i}\n" for i, url in enumerate(urls))
    )
    rounds: list[tuple[float, float, float]] = []
    try:
        for number in range(1, args.rounds + 1):
            os.sync()
            limit = limit_seconds(urls)
            os.sync()
            wall, cpu = client_seconds(manifest)
            rounds.append((limit, wall, cpu))
            print(
                f"round {number}: limit {args.rows / limit:6,.0f} rows/s, medialib import "
                f"{args.rows / wall:6,.0f} rows/s, ratio {limit / wall:.2f}, client CPU "
                f"{cpu:.2f} s = {cpu / wall:.1%} of its {wall:.1f} s",
                flush=True,
            )
    finally:
        nginx.stop()
        manifest.unlink(missing_ok=True)
        work.rmdir()

    ratios = [limit / wall for limit, wall, _ in rounds]
    shares = [cpu / wall for _, wall, cpu in rounds]
    print(
        f"\nmedialib import, {args.rows:,} rows of ~{args.size // 1000} KB JPEGs from nginx on "
        f"127.0.0.1, {os.cpu_count()} cores, embedded default; {args.rounds} interleaved rounds"
    )
    limit_rate = args.rows / statistics.median(r[0] for r in rounds)
    ours_rate = args.rows / statistics.median(r[1] for r in rounds)
    print(f"  limit (a minimal script posting jobs):  {limit_rate:8,.0f} rows/s (median)")
    print(f"  medialib import, end to end:            {ours_rate:8,.0f} rows/s (median)")
    shown = ", ".join(f"{r:.2f}" for r in ratios)
    print(f"  ratio ours / limit, median of rounds:   {statistics.median(ratios):8.2f}  ({shown})")
    shown = ", ".join(f"{s:.1%}" for s in shares)
    print(f"  client CPU / end-to-end time, median:   {statistics.median(shares):8.1%}  ({shown})")
    met = "met" if statistics.median(shares) < TARGET_CPU_SHARE else "NOT MET"
    print(f"  target: the client under {TARGET_CPU_SHARE:.0%} of the end-to-end time: {met}")


if __name__ == "__main__":
    main()
