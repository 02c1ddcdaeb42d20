"""A fast local archive for benchmarks: nginx (Debian's package) serving files on 127.0.0.1,
as a real archive server would (a Python server caps out near 200 files/s and would hide
everything behind it). Also the machine's raw download limit, measured with curl."""

from __future__ import annotations

import asyncio
import io
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import aiohttp
from PIL import Image
from tests.support.process import free_port

# Debian puts nginx in /usr/sbin, which is not on every user's PATH.
NGINX_PATH = f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin"
NGINX_CONF = """
worker_processes 2;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    types {{
        image/jpeg jpg jpeg; video/mp4 mp4; application/octet-stream bin;
        text/html html; text/css css; application/javascript js;
    }}
    client_body_temp_path {root}/tmp;
    proxy_temp_path {root}/tmp;
    fastcgi_temp_path {root}/tmp;
    uwsgi_temp_path {root}/tmp;
    scgi_temp_path {root}/tmp;
    server {{
        listen 127.0.0.1:{port};
        root {root}/files;
    }}
}}
"""


def jpeg_comment(marker: bytes) -> bytes:
    """A JPEG comment segment: put right after SOI, it makes a file's bytes (and hash) its own."""
    return b"\xff\xfe" + (len(marker) + 2).to_bytes(2, "big") + marker


def jpeg_files(folder: Path, count: int, size: int = 100_000) -> list[str]:
    """`count` distinct JPEGs of about `size` bytes (noise compresses badly, so it sets the
    size); returns their names."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    bases = []
    for _ in range(20):
        side = 190
        noise = bytes(rng.getrandbits(8) for _ in range(side * side * 3))
        picture = Image.frombytes("RGB", (side, side), noise)
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=92)
        bases.append(out.getvalue())
    names = []
    for i in range(count):
        base = bases[i % len(bases)]
        comment = jpeg_comment(f"medialib bench {i}".encode())
        padding = max(0, size - len(base) - len(comment))
        filler = (
            b"\xff\xfe" + (min(padding, 65533) + 2).to_bytes(2, "big") + b"\0" * min(padding, 65533)
        )
        data = base[:2] + comment + (filler if padding > 4 else b"") + base[2:]
        name = f"{i:05d}.jpg"
        (folder / name).write_bytes(data)
        names.append(name)
    return names


class Nginx:
    def __init__(self) -> None:
        if shutil.which("nginx", path=NGINX_PATH) is None:
            raise SystemExit("nginx is needed: apt-get install nginx-light")
        self.root = Path(tempfile.mkdtemp(prefix="medialib-origin-"))
        self.root.chmod(0o755)  # nginx's workers run as another user
        self.files = self.root / "files"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def start(self) -> Nginx:
        (self.root / "tmp").mkdir(exist_ok=True)
        conf = self.root / "nginx.conf"
        conf.write_text(NGINX_CONF.format(root=self.root, port=self.port))
        self.process = subprocess.Popen(
            [
                shutil.which("nginx", path=NGINX_PATH) or "nginx",
                "-c",
                str(conf),
                "-g",
                "daemon off;",
                "-e",
                str(self.root / "error.log"),
            ]
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)


def aiohttp_seconds(urls: list[str], parallel: int) -> float:
    """A plain Python downloader: aiohttp, `parallel` at once, each body streamed to a file."""

    async def run(folder: Path) -> float:
        gate = asyncio.Semaphore(parallel)
        connector = aiohttp.TCPConnector(limit=parallel)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def fetch(i: int, url: str) -> None:
                async with gate, session.get(url) as response:
                    response.raise_for_status()
                    with (folder / f"{i}.bin").open("wb") as sink:
                        async for chunk in response.content.iter_chunked(256 * 1024):
                            sink.write(chunk)

            started = time.perf_counter()
            await asyncio.gather(*(fetch(i, u) for i, u in enumerate(urls)))
            return time.perf_counter() - started

    with tempfile.TemporaryDirectory(prefix="medialib-aiohttp-") as folder:
        return asyncio.run(run(Path(folder)))


def curl_seconds(urls: list[str], parallel: int) -> float:
    """The raw limit: curl downloading the same URLs to disk, `parallel` at once."""
    with tempfile.TemporaryDirectory(prefix="medialib-curl-") as folder:
        config = Path(folder) / "urls.txt"
        config.write_text(
            "".join(f'url = "{u}"\noutput = "{folder}/{i}.bin"\n' for i, u in enumerate(urls))
        )
        started = time.perf_counter()
        subprocess.run(
            [
                "curl",
                "--silent",
                "--no-progress-meter",
                "--parallel",
                "--parallel-max",
                str(parallel),
                "--config",
                str(config),
            ],
            check=True,
        )
        return time.perf_counter() - started
