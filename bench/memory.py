"""The peak resident memory of every medialib process while a 1 GB file, a 1 GB video and 1000
images import at once, and what the server holds before any work, from the first start on a
new home.

    python bench/memory.py [--size-mb 1024] [--images 1000] [--rounds 1]

nginx serves the three on 127.0.0.1: a sparse 1 GB PDF (a file import), a 1 GB H.264 mp4 (a
video import) and ~100 KB JPEGs (an image import). A fresh `medialib serve` (embedded default,
`make serve` settings, started on a new home: it migrates the database) gets the three jobs at
once. Every process under the server (its worker processes, their analysis processes, video
fork servers and the probers forked from them) is sampled every 5 ms for its peak resident
memory (VmHWM), from its exec on. Printed: each process's resident memory when the server
is ready and idle, and the big native libraries it has mapped then (which of libvips, libpq and
FFmpeg's libav* a process loaded at start), then each process's peak during the imports.

Memory is not a rate, so there is no limit beside it; rounds repeat the whole run.

Target (issue 15): every process under 100 MB at its peak.
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

from bench.origin import Nginx, jpeg_files
from bench.video_import import Sampler, Seen, _descendants, _role, noisy_video

TARGET_MB = 100
# Native libraries worth naming when a process has them mapped before any work.
BIG_LIBRARIES = ("libvips", "libpq", "libavcodec", "libavformat", "libssl")


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def mapped_libraries(pid: int) -> list[str]:
    maps = Path(f"/proc/{pid}/maps").read_text()
    return [name for name in BIG_LIBRARIES if name in maps]


def _wait_until_settled(root: int) -> None:
    """Until the worker processes `serve` starts have started too: no process's resident
    memory has changed for half a second (at most 30 s)."""
    last: dict[int, float] = {}
    for _ in range(60):
        now = {pid: resident_mb(pid) for pid in [root, *_descendants(root)]}
        if now == last and len(now) > 1:
            return
        last = now
        time.sleep(0.5)


async def _import_all(server: ServerProcess, token: str, jobs: dict[str, list[str]]) -> Any:
    receiver = await Receiver().start()
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=120) as client:
        started = time.perf_counter()
        posted = []
        for kind, urls in jobs.items():
            items = [
                {"url": url, "id": f"{kind}-{i}", "fileName": f"{kind} {i}", "metadata": {}}
                for i, url in enumerate(urls)
            ]
            body = {"systemName": "bench", "webhook": receiver.url(), kind: items}
            response = await client.post(f"/api/2026-05/import/{kind}", json=body)
            response.raise_for_status()
            posted.append((kind, response.json()["id"]))
        for _ in posted:
            await receiver.delivered(timeout=1800)
        seconds = time.perf_counter() - started
        for kind, job in posted:
            status = (
                await client.get(f"/api/2026-05/import/{kind}/status", params={"id": job})
            ).json()
            failed = [i for i in status[kind] if i["state"] != "success"]
            if failed:
                raise SystemExit(f"{kind}: {len(failed)} failed, e.g. {failed[:2]}")
    await receiver.stop()
    return seconds


def run_round(nginx: Nginx, jobs: dict[str, list[str]], size: int) -> dict[int, Seen]:
    with tempfile.TemporaryDirectory(prefix="medialib-bench-") as home:
        env = {
            "MEDIALIB_FETCH_ALLOW": "127.0.0.1/32",
            "MEDIALIB_FILE_MAX_BYTES": str(size * 2),
            "MEDIALIB_FETCH_TIMEOUT": "1800",
        }
        server = ServerProcess(Path(home), env=env)
        server.start()  # the first start on a new home: the database is migrated
        assert server.process is not None
        token = server.run("token", "create", "--project", "demo", "--scope", "public-api:write")
        root = server.process.pid
        try:
            _wait_until_settled(root)
            print("at start, idle:")
            for pid in [root, *_descendants(root)]:
                libraries = ", ".join(mapped_libraries(pid)) or "none of them"
                print(
                    f"  {_role(pid, root):12} {pid:7}: {resident_mb(pid):5.0f} MB resident; "
                    f"mapped: {libraries}"
                )
            sampler = Sampler(root).start()
            try:
                seconds = asyncio.run(_import_all(server, token, jobs))
            finally:
                seen = sampler.stop()
        finally:
            server.stop()
    print(f"three imports at once, POST to last webhook: {seconds:.1f} s")
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    size = args.size_mb * 1024 * 1024

    nginx = Nginx()
    images = jpeg_files(nginx.files, args.images)
    with (nginx.files / "big.pdf").open("wb") as file:
        file.write(b"%PDF-1.4\n")
        file.truncate(size)  # sparse: nginx reads zeros without a gigabyte on disk
    noisy_video(nginx.files / "big.mp4", size)
    jobs = {
        "files": [nginx.url("big.pdf")],
        "videos": [nginx.url("big.mp4")],
        "images": [nginx.url(name) for name in images],
    }
    nginx.start()
    worst: dict[str, float] = {}
    try:
        for number in range(1, args.rounds + 1):
            print(f"\nround {number}")
            seen = run_round(nginx, jobs, size)
            print("peak resident memory during the imports (VmHWM):")
            for pid, one in sorted(seen.items(), key=lambda item: item[1].first):
                print(f"  {one.role:12} {pid:7}: {one.peak_mb:5.0f} MB")
                worst[one.role] = max(worst.get(one.role, 0.0), one.peak_mb)
    finally:
        nginx.stop()
    print(
        f"\na {args.size_mb} MB file, a {args.size_mb} MB video and {args.images} images at "
        f"once, {args.rounds} round(s); the worst peak of each kind of process:"
    )
    for role, peak in worst.items():
        print(f"  {role:12} {peak:5.0f} MB")
    met = "met" if max(worst.values()) < TARGET_MB else "NOT MET"
    print(f"  target: every process under {TARGET_MB} MB: {met}")


if __name__ == "__main__":
    main()
