"""Renditions through `GET /media/{key}?w=800&auto=format` beside the raw engine, a peer and
nginx, in the same run.

    python bench/renditions.py [--images 200] [--rounds 5] [--clients 8] [--seconds 5]

200 distinct JPEGs of 2400x1600 (about 1 MB each, a newsroom photo) are registered in a fresh
`medialib serve` (make serve's settings: SQLite, a local folder). Each round runs, in this
order, with nothing else of ours alive while a limit is measured:

1. the raw engine: pyvips in one process making the same thumbnails (800 wide, WebP, q 75),
   `--clients` at once;
2. the peer: thumbor (from PyPI, in a venv of its own, one process per core, its Pillow engine,
   no result storage, AUTO_WEBP) asked for `/unsafe/800x0/<file>` with `Accept: image/webp`
   by `--clients` concurrent clients;
3. medialib, cache misses: every image asked once for `?w=800&auto=format` with
   `Accept: image/webp` by `--clients` concurrent clients (the stored variants are deleted
   before, so each request renders);
4. nginx serving the variant files medialib stored, as fast as wrk (8 connections) can ask,
   for `--seconds`;
5. medialib, cache hits: the same rendition URLs, as fast as wrk can ask, for `--seconds`;
   then medialib's `/healthz` the same way, the ceiling of its HTTP layer on this machine.

Figures: images/s of each and per-round ratios (misses to the raw engine and to thumbor, hits to
nginx), with their medians. Targets (issue 11): misses at no less than 0.7 of the raw engine and
at least 3 times thumbor; hits at no less than half of nginx.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.process import ServerProcess, free_port

from bench.origin import NGINX_PATH

TARGETS = {"raw": 0.7, "thumbor": 3.0, "nginx": 0.5}
WIDTH, HEIGHT = 2400, 1600
QUERY = "w=800&auto=format"
ACCEPT = "image/webp,*/*"
THUMBOR_VERSION = "7.8.0"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "medialib-bench"


# --- The pictures ----------------------------------------------------------------------------


def photos(folder: Path, count: int) -> list[Path]:
    """`count` distinct 2400x1600 JPEGs of about 1 MB: smooth light, shapes and grain, as a
    photo has (noise alone would make 4 MB files; flat colour, 50 KB ones)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{i:04d}.jpg" for i in range(count)]
    if all(p.exists() for p in paths):
        return paths
    rng = random.Random(11)
    grain = Image.effect_noise((WIDTH, HEIGHT), 18).convert("RGB")
    for path in paths:
        base = Image.linear_gradient("L").resize((WIDTH, HEIGHT)).convert("RGB")
        tint = Image.new("RGB", (WIDTH, HEIGHT), tuple(rng.randrange(40, 220) for _ in range(3)))
        picture = Image.blend(base, tint, 0.6)
        for _ in range(12):  # a few shapes make each picture its own
            x, y = rng.randrange(WIDTH - 400), rng.randrange(HEIGHT - 300)
            colour = tuple(rng.randrange(256) for _ in range(3))
            picture.paste(colour, (x, y, x + rng.randrange(80, 400), y + rng.randrange(60, 300)))
        picture = Image.blend(picture, grain, 0.25)
        picture.save(path, "JPEG", quality=88)
    return paths


# --- The raw engine and the peer --------------------------------------------------------------


RAW_ENGINE = """
import sys, time, pyvips
from concurrent.futures import ThreadPoolExecutor
paths, clients = sys.argv[2:], int(sys.argv[1])
pyvips.cache_set_max(0)
def one(path):
    return len(pyvips.Image.thumbnail(path, 800).webpsave_buffer(Q=75))
started = time.perf_counter()
with ThreadPoolExecutor(clients) as pool:
    sizes = list(pool.map(one, paths))
print(time.perf_counter() - started)
"""


def raw_engine_seconds(paths: list[Path], clients: int) -> float:
    done = subprocess.run(
        [sys.executable, "-c", RAW_ENGINE, str(clients), *map(str, paths)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip())


def thumbor_python() -> Path:
    """thumbor in a venv of its own (its pins are not medialib's), made once and kept."""
    home = CACHE / f"thumbor-{THUMBOR_VERSION}"
    python = home / "bin" / "python"
    if not (home / "bin" / "thumbor").exists():
        venv.create(home, with_pip=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", f"thumbor=={THUMBOR_VERSION}"],
            check=True,
        )
    return home / "bin" / "thumbor"


class Thumbor:
    def __init__(self, files: Path) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="medialib-thumbor-"))
        self.port = free_port()
        self.conf = self.root / "thumbor.conf"
        self.conf.write_text(
            f"LOADER = 'thumbor.loaders.file_loader'\n"
            f"FILE_LOADER_ROOT_PATH = {str(files)!r}\n"
            "STORAGE = 'thumbor.storages.no_storage'\n"
            "RESULT_STORAGE = None\n"
            "ALLOW_UNSAFE_URL = True\n"
            "AUTO_WEBP = True\n"
            "QUALITY = 75\n"
            "MAX_AGE = 0\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Thumbor:
        self.process = subprocess.Popen(
            [
                str(thumbor_python()),
                "--port",
                str(self.port),
                "--ip",
                "127.0.0.1",
                "--conf",
                str(self.conf),
                "--processes",
                str(os.cpu_count() or 1),
                "-l",
                "error",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Its own process group: thumbor forks a worker per core, which outlive their
            # parent's SIGTERM (and then take the CPU from every round after).
            start_new_session=True,
        )
        wait_for(f"http://127.0.0.1:{self.port}/healthcheck")
        return self

    def stop(self) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        shutil.rmtree(self.root, ignore_errors=True)


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def fetch_all_seconds(urls: list[str], clients: int, expect: str) -> float:
    """`clients` concurrent clients asking for each URL once; every answer must be `expect`."""

    async def run() -> float:
        queue: asyncio.Queue[str] = asyncio.Queue()
        for url in urls:
            queue.put_nowait(url)
        connector = aiohttp.TCPConnector(limit=clients)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def client() -> None:
                while not queue.empty():
                    url = queue.get_nowait()
                    async with session.get(url, headers={"Accept": ACCEPT}) as response:
                        body = await response.read()
                        kind = response.headers.get("content-type")
                        if response.status != 200 or kind != expect:
                            raise RuntimeError(f"{url}: {response.status} {kind} {body[:200]!r}")

            started = time.perf_counter()
            await asyncio.gather(*(client() for _ in range(clients)))
            return time.perf_counter() - started

    return asyncio.run(run())


# --- nginx and wrk ------------------------------------------------------------------------------


NGINX_CONF = """
worker_processes {workers};
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    open_file_cache max=1000;
    types {{ image/webp webp; }}
    client_body_temp_path {root}/tmp;
    proxy_temp_path {root}/tmp;
    fastcgi_temp_path {root}/tmp;
    uwsgi_temp_path {root}/tmp;
    scgi_temp_path {root}/tmp;
    server {{
        listen 127.0.0.1:{port};
        root {files};
        add_header Cache-Control "public, max-age=31536000, immutable";
    }}
}}
"""


class Nginx:
    """nginx serving a folder as it is (the variant files medialib stored)."""

    def __init__(self, files: Path) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="medialib-nginx-"))
        self.root.chmod(0o755)
        self.port = free_port()
        (self.root / "tmp").mkdir()
        conf = self.root / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(
                root=self.root, port=self.port, files=files, workers=os.cpu_count() or 1
            )
        )
        self.command = [
            shutil.which("nginx", path=NGINX_PATH) or "nginx",
            "-c",
            str(conf),
            "-g",
            "daemon off; user root;",
            "-e",
            str(self.root / "error.log"),
        ]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Nginx:
        self.process = subprocess.Popen(self.command)
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)


WRK_SCRIPT = """
paths = {paths}
i = math.random(#paths)
wrk.headers["Accept"] = "{accept}"
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
  io.write(string.format("\\nSTATUS %d %d\\n", summary.requests, summary.errors.status))
end
"""


def wrk_rate(base: str, paths: list[str], seconds: float) -> float:
    """Requests per second wrk (2 threads, 8 connections) gets from `base` over `paths`."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        listed = "{" + ",".join(json.dumps(p) for p in paths) + "}"
        script.write(WRK_SCRIPT.format(paths=listed, accept=ACCEPT))
    try:
        done = subprocess.run(
            ["wrk", "-t2", "-c8", f"-d{round(seconds)}s", "-s", script.name, base],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(script.name)
    status = re.search(r"STATUS (\d+) (\d+)", done.stdout)
    if status is None or int(status.group(2)):
        raise RuntimeError(f"wrk saw errors:\n{done.stdout}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    assert rate is not None, done.stdout
    return float(rate.group(1))


# --- medialib -----------------------------------------------------------------------------------


class Medialib:
    def __init__(self, home: Path, photos: list[Path]) -> None:
        self.home = home
        self.server = ServerProcess(home)
        self.keys = [f"bench/{p.name}" for p in photos]
        storage = home / "storage" / "bench"
        storage.mkdir(parents=True, exist_ok=True)
        for photo in photos:
            shutil.copyfile(photo, storage / photo.name)
        self.photos = photos

    def start(self) -> Medialib:
        # uvicorn binds its socket after the app's start-up: wait for the socket
        port = str(self.server.port)
        self.server.start("serve", "--port", port, ready="Uvicorn running on")
        return self

    def stop(self) -> None:
        self.server.stop()

    def register(self) -> None:
        token = self.server.run(
            "token", "create", "--project", "demo", "--scope", "public-api:write"
        ).split()[-1]
        entries = [
            {
                "systemName": "bench",
                "externalId": key,
                "mediaType": "image",
                "asset": {
                    "key": key,
                    "size": photo.stat().st_size,
                    "width": WIDTH,
                    "height": HEIGHT,
                    "filename": photo.name,
                    "mimeType": "image/jpeg",
                },
                "metadata": {"title": photo.name},
            }
            for key, photo in zip(self.keys, self.photos, strict=True)
        ]
        response = httpx.post(
            f"{self.server.url}/api/2026-05/import/mediaLibrary",
            json={"mediaLibraryEntries": entries},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        response.raise_for_status()
        assert all(r["ok"] for r in response.json()["results"]), response.text

    def forget_variants(self) -> None:
        shutil.rmtree(self.home / "storage" / "v", ignore_errors=True)

    def variant_paths(self) -> list[str]:
        root = self.home / "storage"
        return sorted("/" + str(p.relative_to(root)) for p in (root / "v").rglob("*.webp"))


# --- The run ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()

    paths = photos(CACHE / "renditions-photos", args.images)
    size = statistics.mean(p.stat().st_size for p in paths) / 1e6
    print(f"{len(paths)} JPEGs of {WIDTH}x{HEIGHT}, {size:.2f} MB on average", flush=True)
    thumbor_python()
    home = Path(tempfile.mkdtemp(prefix="medialib-bench-renditions-"))
    medialib = Medialib(home, paths)
    medialib.start()
    medialib.register()
    medialib.stop()
    rows: list[dict[str, float]] = []
    try:
        for round_no in range(1, args.rounds + 1):
            rows.append(one_round(medialib, paths, args))
            row = rows[-1]
            print(
                f"round {round_no}: raw {row['raw']:.1f}/s, thumbor {row['thumbor']:.1f}/s, "
                f"misses {row['miss']:.1f}/s ({row['miss'] / row['raw']:.2f} of raw, "
                f"{row['miss'] / row['thumbor']:.1f}x thumbor); nginx {row['nginx']:.0f}/s, "
                f"hits {row['hit']:.0f}/s ({row['hit'] / row['nginx']:.2f}); "
                f"medialib's /healthz {row['healthz']:.0f}/s",
                flush=True,
            )
    finally:
        shutil.rmtree(home, ignore_errors=True)
    report(rows)


def one_round(medialib: Medialib, paths: list[Path], args: Any) -> dict[str, float]:
    count = len(paths)
    row = {"raw": count / raw_engine_seconds(paths, args.clients)}

    thumbor = Thumbor(paths[0].parent).start()
    try:
        urls = [f"http://127.0.0.1:{thumbor.port}/unsafe/800x0/{p.name}" for p in paths]
        row["thumbor"] = count / fetch_all_seconds(urls, args.clients, "image/webp")
    finally:
        thumbor.stop()

    medialib.forget_variants()
    medialib.start()
    try:
        urls = [f"{medialib.server.url}/media/{key}?{QUERY}" for key in medialib.keys]
        row["miss"] = count / fetch_all_seconds(urls, args.clients, "image/webp")
    finally:
        medialib.stop()

    nginx = Nginx(medialib.home / "storage").start()
    try:
        wait_for_port(nginx.port)
        row["nginx"] = wrk_rate(
            f"http://127.0.0.1:{nginx.port}", medialib.variant_paths(), args.seconds
        )
    finally:
        nginx.stop()

    medialib.start()
    try:
        paths_ = [f"/media/{key}?{QUERY}" for key in medialib.keys]
        row["hit"] = wrk_rate(medialib.server.url, paths_, args.seconds)
        # The HTTP layer's own ceiling on this machine: a route that does nothing.
        row["healthz"] = wrk_rate(medialib.server.url, ["/healthz"], args.seconds)
    finally:
        medialib.stop()
    return row


def wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nginx did not start")


def report(rows: list[dict[str, float]]) -> None:
    ratios = {
        "misses / raw engine": [r["miss"] / r["raw"] for r in rows],
        "misses / thumbor": [r["miss"] / r["thumbor"] for r in rows],
        "hits / nginx": [r["hit"] / r["nginx"] for r in rows],
        "hits / medialib's /healthz": [r["hit"] / r["healthz"] for r in rows],
    }
    print()
    for name, values in ratios.items():
        shown = ", ".join(f"{v:.2f}" for v in values)
        print(f"{name}: median {statistics.median(values):.2f} (rounds: {shown})")
    for name in ("raw", "thumbor", "miss", "nginx", "hit", "healthz"):
        print(f"{name}: median {statistics.median(r[name] for r in rows):.1f}/s")


if __name__ == "__main__":
    main()
