"""One 1 GB file through POST /import/files: the time it takes and the peak memory of the
server's processes (the server, and the worker processes it starts).

    python bench/large_file.py [--size-mb 1024]

Bodies are streamed to disk and hashed on the way; nothing holds a whole file. Target: under
200 MB peak for each process.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.process import ServerProcess
from tests.support.webhooks import Receiver

from bench.origin import Nginx

TARGET_MB = 200


def peak_mb(pid: int) -> float:
    """The most resident memory the process ever had (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for {pid}")


def children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


async def _import(server: ServerProcess, token: str, url: str) -> tuple[float, Any]:
    receiver = await Receiver().start()
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=120) as client:
        started = time.perf_counter()
        body = {
            "systemName": "bench",
            "webhook": receiver.url(),
            "files": [{"url": url, "id": "big", "fileName": "archive", "metadata": {}}],
        }
        response = await client.post("/api/2026-05/import/files", json=body)
        response.raise_for_status()
        await receiver.delivered(timeout=1800)
        elapsed = time.perf_counter() - started
        status = (
            await client.get(
                "/api/2026-05/import/files/status", params={"id": response.json()["id"]}
            )
        ).json()
    await receiver.stop()
    return elapsed, status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    args = parser.parse_args()
    size = args.size_mb * 1024 * 1024

    nginx = Nginx()
    nginx.files.mkdir(parents=True)
    big = nginx.files / "big.bin"
    with big.open("wb") as file:
        file.write(b"%PDF-1.4\n")
        file.truncate(size)  # sparse: nginx reads zeros without a gigabyte on disk
    nginx.start()
    try:
        with tempfile.TemporaryDirectory(prefix="medialib-bench-") as home:
            env = {
                "MEDIALIB_FETCH_ALLOW": "127.0.0.1/32",
                "MEDIALIB_FILE_MAX_BYTES": str(size * 2),
                "MEDIALIB_FETCH_TIMEOUT": "1800",
            }
            server = ServerProcess(Path(home), env=env)
            token = server.run(
                "token", "create", "--project", "demo", "--scope", "public-api:write"
            )
            server.start()
            assert server.process is not None
            try:
                seconds, status = asyncio.run(_import(server, token, nginx.url("big.bin")))
                processes = [server.process.pid, *children(server.process.pid)]
                peaks = {pid: peak_mb(pid) for pid in processes}
            finally:
                server.stop()
    finally:
        nginx.stop()

    [item] = status["files"]
    if item["state"] != "success":
        raise SystemExit(f"the import failed: {item}")
    print(f"large file import, {args.size_mb} MB from nginx on 127.0.0.1")
    print(f"  POST to finished: {seconds:6.1f} s ({args.size_mb / seconds:,.0f} MB/s)")
    for pid, peak in peaks.items():
        role = "server" if pid == processes[0] else "worker"
        print(f"  peak memory, {role} process {pid}: {peak:6.0f} MB")
    worst = max(peaks.values())
    print(f"  target {TARGET_MB} MB peak: {'meets' if worst < TARGET_MB else 'MISSES'}")


if __name__ == "__main__":
    main()
