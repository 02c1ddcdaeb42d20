"""CPU per file of the HTTP client a worker fetches with: medialib's aiohttp fetcher beside the same
fetch guard over libcurl (pycurl's multi interface), with curl and bare loops as references.

    python bench/http_client.py [--files 2000] [--concurrency 32] [--rounds 5]

nginx serves distinct ~100 KB JPEGs on 127.0.0.1 (bench/origin.py). Each round fetches all of
them with each client in turn, `--concurrency` at once (that many lanes taking the next URL),
each body to its own file:

- curl: the curl command, `--parallel` (the CPU of the child process, from getrusage);
- aiohttp bare: one session, the body gathered into 1 MB blocks and written, nothing checked;
- medialib aiohttp: `HttpFetcher.download`, the worker's own code path: the URL checks, the
  guard, redirects by hand, the bounds, the retries, the sniffing, the cap, the hash, the file;
- medialib pycurl: the same, each request made by libcurl (bench/curl_fetcher.py);
- pycurl bare: libcurl from asyncio, the body gathered into 1 MB blocks and written.

Every Python client runs in a fresh process on uvloop (as the worker does), fetches
`--concurrency` files first (connections, first-use work), then all of them with the clock and
getrusage (user + system, every thread of the process) running. Bodies go to a folder under
TMPDIR, removed after each run; `TMPDIR=/dev/shm` keeps the disk out (the worker's 1,050 µs per
image in docs/benchmarks.md were measured so). Printed: every round, the medians, the medians of
the per-round ratios, and what medialib pycurl would save of a worker's CPU per image.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pycurl
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.curl_fetcher import CurlFetcher
from bench.origin import Nginx, curl_seconds, jpeg_files
from medialib.media.fetch import FetchError, FetchPolicy, parse_networks
from medialib.media.http_fetcher import BLOCK, CHUNK, HttpFetcher
from medialib.media.probe.sniff import Sniffed

PYTHON_CLIENTS = ("aiohttp bare", "medialib aiohttp", "medialib pycurl", "pycurl bare")
CLIENTS = ("curl", *PYTHON_CLIENTS)
# A worker's CPU per image (docs/benchmarks.md, 2026-12-06): import_throughput.py on tmpfs with
# the image analysis off, and analysis_cost.py with it on (the default, faces included).
WORKER_US = {"analysis off": 1_050, "analysis on (the default)": 23_505}
ADOPT_SHARE = 0.25

Fetch = Callable[[str, Path], Awaitable[object]]


def image_cap(sniffed: Sniffed) -> int:
    """As an image import's `limit_for`: a type check and a cap."""
    if not sniffed.is_image:
        raise FetchError("unsupported_type", f"the bytes are {sniffed.mime}")
    return 50_000_000


def _write_blocks(path: Path, chunks: list[bytes]) -> None:
    """A bare client's file: the body in 1 MB blocks, as medialib's sink writes it."""
    with path.open("wb", io.DEFAULT_BUFFER_SIZE) as sink:
        block: list[bytes] = []
        size = 0
        for chunk in chunks:
            block.append(chunk)
            size += len(chunk)
            if size >= BLOCK:
                sink.write(b"".join(block))
                block, size = [], 0
        sink.write(b"".join(block))


async def _aiohttp_bare(concurrency: int) -> tuple[Fetch, Callable[[], Awaitable[None]]]:
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency))

    async def fetch(url: str, path: Path) -> None:
        async with session.get(url) as response:
            response.raise_for_status()
            chunks = [chunk async for chunk in response.content.iter_chunked(CHUNK)]
        _write_blocks(path, chunks)

    return fetch, session.close


async def _pycurl_bare(concurrency: int) -> tuple[Fetch, Callable[[], Awaitable[None]]]:
    multi = pycurl.AsyncCurlMulti()
    multi.setopt(pycurl.M_MAXCONNECTS, concurrency * 2)
    idle: list[pycurl.Curl] = []

    async def fetch(url: str, path: Path) -> None:
        curl = idle.pop() if idle else pycurl.Curl()
        chunks: list[bytes] = []
        curl.setopt(pycurl.URL, url)
        curl.setopt(pycurl.BUFFERSIZE, CHUNK)
        curl.setopt(pycurl.WRITEFUNCTION, chunks.append)
        await multi.perform(curl)
        status = curl.getinfo(pycurl.RESPONSE_CODE)
        idle.append(curl)
        if status != 200:
            raise RuntimeError(f"HTTP {status}")
        _write_blocks(path, chunks)

    return fetch, multi.aclose


async def _medialib(
    concurrency: int, kind: type[HttpFetcher]
) -> tuple[Fetch, Callable[[], Awaitable[None]]]:
    policy = FetchPolicy(
        allow=parse_networks(["127.0.0.1/32"]), concurrency=concurrency, per_host=concurrency
    )
    fetcher = kind(policy)

    async def fetch(url: str, path: Path) -> None:
        await fetcher.download(url, path, image_cap)

    return fetch, fetcher.close


async def _lanes(fetch: Fetch, urls: list[str], folder: Path, concurrency: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    jobs = iter(enumerate(urls))

    async def lane() -> None:
        for i, url in jobs:
            await fetch(url, folder / f"{i}.part")

    await asyncio.gather(*(lane() for _ in range(concurrency)))


async def _client_run(
    client: str, urls: list[str], out: Path, concurrency: int
) -> dict[str, float]:
    makers = {
        "aiohttp bare": lambda: _aiohttp_bare(concurrency),
        "medialib aiohttp": lambda: _medialib(concurrency, HttpFetcher),
        "medialib pycurl": lambda: _medialib(concurrency, CurlFetcher),
        "pycurl bare": lambda: _pycurl_bare(concurrency),
    }
    fetch, close = await makers[client]()
    await _lanes(fetch, urls[:concurrency], out / "warm-up", concurrency)
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    await _lanes(fetch, urls, out / "files", concurrency)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    await close()
    return {
        "seconds": seconds,
        "user": after.ru_utime - before.ru_utime,
        "system": after.ru_stime - before.ru_stime,
    }


def child(client: str, urls_file: Path, out: Path, concurrency: int) -> None:
    """The child process: one client, one run; its figures as JSON on stdout."""
    urls = urls_file.read_text().split()
    print(json.dumps(uvloop.run(_client_run(client, urls, out, concurrency))))


def run_python(client: str, urls_file: Path, concurrency: int, expected: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="medialib-client-") as out:
        done = subprocess.run(
            [
                *(sys.executable, __file__, "--child", client),
                *("--urls-file", str(urls_file), "--out", out),
                *("--concurrency", str(concurrency)),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"{client} failed:\n{done.stderr}")
        files = list((Path(out) / "files").iterdir())
        written = sum(f.stat().st_size for f in files)
        if len(files) != len(urls_file.read_text().split()) or written != expected:
            raise SystemExit(f"{client} wrote {len(files)} files of {written} bytes")
        return dict(json.loads(done.stdout.splitlines()[-1]))


def run_curl(urls: list[str], concurrency: int) -> dict[str, float]:
    """The curl command's run: its wall time, and its CPU (it is the only child that ends)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds = curl_seconds(urls, concurrency)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "seconds": seconds,
        "user": after.ru_utime - before.ru_utime,
        "system": after.ru_stime - before.ru_stime,
    }


def per_file_us(run: dict[str, float], files: int) -> float:
    return (run["user"] + run["system"]) / files * 1e6


def report(runs: dict[str, list[dict[str, float]]], files: int, args: argparse.Namespace) -> None:
    cpu = {c: [per_file_us(r, files) for r in rs] for c, rs in runs.items()}
    print(
        f"\nHTTP clients, {files} JPEGs of ~100 KB from nginx on 127.0.0.1, {args.concurrency} at "
        f"once, {os.cpu_count()} cores, bodies under {tempfile.gettempdir()}, {args.rounds} "
        f"interleaved rounds; libcurl {pycurl.version_info()[1]}, aiohttp {aiohttp.__version__}"
    )
    for client in CLIENTS:
        rates = [files / r["seconds"] for r in runs[client]]
        users = statistics.median(r["user"] / files * 1e6 for r in runs[client])
        systems = statistics.median(r["system"] / files * 1e6 for r in runs[client])
        print(
            f"  {client:17} {statistics.median(cpu[client]):6,.0f} µs CPU a file (median; user "
            f"{users:,.0f}, system {systems:,.0f}), {statistics.median(rates):6,.0f} files/s"
        )
    pairs = (
        ("medialib pycurl", "medialib aiohttp"),
        ("pycurl bare", "aiohttp bare"),
        ("medialib aiohttp", "curl"),
        ("medialib pycurl", "curl"),
    )
    print("  CPU a file, median of the per-round ratios:")
    for ours, other in pairs:
        ratios = [o / t for o, t in zip(cpu[ours], cpu[other], strict=True)]
        shown = ", ".join(f"{r:.2f}" for r in ratios)
        print(f"    {ours} / {other}: {statistics.median(ratios):.2f}  ({shown})")
    saved = [a - p for a, p in zip(cpu["medialib aiohttp"], cpu["medialib pycurl"], strict=True)]
    shown = ", ".join(f"{s:,.0f}" for s in saved)
    print(f"  saved by medialib pycurl: {statistics.median(saved):,.0f} µs a file ({shown})")
    for setting, worker in WORKER_US.items():
        share = statistics.median(saved) / worker
        verdict = "reaches" if share >= ADOPT_SHARE else "does not reach"
        print(
            f"    of a worker's {worker:,} µs an image ({setting}): {share:.1%}, "
            f"{verdict} {ADOPT_SHARE:.0%}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--child", choices=PYTHON_CLIENTS, help=argparse.SUPPRESS)
    parser.add_argument("--urls-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.urls_file, args.out, args.concurrency)
        return

    nginx = Nginx()
    names = jpeg_files(nginx.files, args.files)
    nginx.start()
    urls = [nginx.url(name) for name in names]
    expected = sum((nginx.files / n).stat().st_size for n in names)
    urls_file = nginx.root / "urls.txt"
    urls_file.write_text("\n".join(urls))
    runs: dict[str, list[dict[str, float]]] = {c: [] for c in CLIENTS}
    try:
        for number in range(1, args.rounds + 1):
            for client in CLIENTS:
                if client == "curl":
                    runs[client].append(run_curl(urls, args.concurrency))
                else:
                    runs[client].append(run_python(client, urls_file, args.concurrency, expected))
            shown = ", ".join(
                f"{c} {per_file_us(runs[c][-1], args.files):,.0f} µs "
                f"{args.files / runs[c][-1]['seconds']:,.0f}/s"
                for c in CLIENTS
            )
            print(f"round {number}: {shown}", flush=True)
    finally:
        nginx.stop()
        shutil.rmtree(nginx.root, ignore_errors=True)
    report(runs, args.files, args)


if __name__ == "__main__":
    main()
