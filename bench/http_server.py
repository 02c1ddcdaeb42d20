"""Requests per second through medialib's HTTP layer with each HTTP/1.1 parser uvicorn has, both
bounding a request's head at 64 KB, beside nginx answering the same bytes in the same run.

    python bench/http_server.py [--rounds 5] [--seconds 5]

Rounds are interleaved, the limit first: nginx, h11, httptools, nginx, h11, httptools, ... Each
medialib run is a fresh process serving the same home as `medialib serve` does (uvloop, one
event loop, HTTP only) and is stopped before the next run; h11 with its own bound
(`h11_max_incomplete_event_size`), httptools with medialib's (api/protocol.py). wrk (2 threads, 8
connections, on 127.0.0.1) asks for two things: `GET /healthz` (the HTTP layer and routing
alone) and one media library entry by id (a token checked, its rate allowance, a database
read, the entry as JSON).
nginx (2 workers) serves files holding the same bodies.

Printed: every round's requests/s, and the medians of the per-round ratios: httptools / h11 and
medialib (httptools) / nginx.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import uvicorn
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.process import ServerProcess, free_port

from bench.origin import Nginx
from medialib.api.protocol import HTTP_OPTIONS, MAX_HEAD_BYTES
from medialib.bootstrap import Runtime
from medialib.settings import Settings
from medialib.web.app import create_app

PARSERS = ("h11", "httptools")
ENTRY = "http-bench"


def serve(parser: str, port: int) -> None:
    """The child process: medialib's app under uvicorn with `parser` (MEDIALIB_HOME is set)."""
    options = dict(HTTP_OPTIONS)
    if parser == "h11":
        options |= {"http": "h11", "h11_max_incomplete_event_size": MAX_HEAD_BYTES}
    # wrk's token asks far more than a token's rate allows; the allowance is still checked.
    settings = Settings(rate_limit=1e9, rate_limit_burst=10**9)
    app = create_app(runtime=Runtime.from_settings(settings), worker=False)
    uvicorn.run(app, host="127.0.0.1", port=port, loop="uvloop", log_level="warning", **options)


class Server:
    def __init__(self, home: Path, parser: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, __file__, "--serve", parser, "--port", str(self.port)]
        self.process = subprocess.Popen(command, env=ServerProcess(home).env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError(f"the {parser} server did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _installation(home: Path) -> tuple[str, bytes]:
    """A migrated home with one entry; a token that reads it, and the entry's JSON as served."""
    setup = ServerProcess(home)
    setup.run("migrate")
    token = setup.run("token", "create", "--project", "demo", "--scope", "public-api:read")
    writer = setup.run("token", "create", "--project", "demo", "--scope", "public-api:write")
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 20, 30)).save(picture, "JPEG")
    stored = home / "storage" / "bench" / "a.jpeg"
    stored.parent.mkdir(parents=True)
    stored.write_bytes(picture.getvalue())
    asset = {"key": "bench/a.jpeg", "size": stored.stat().st_size, "mimeType": "image/jpeg"}
    asset |= {"filename": "a.jpeg", "width": 64, "height": 48}
    entry = {"id": ENTRY, "mediaType": "image", "asset": asset}
    server = Server(home, "h11")
    try:
        headers = {"Authorization": f"Bearer {writer}"}
        answer = httpx.post(
            f"{server.url}/api/2026-05/import/mediaLibrary",
            json={"mediaLibraryEntries": [entry | {"metadata": {"title": "A picture"}}]},
            headers=headers,
        )
        assert answer.json()["results"][0]["ok"], answer.text
        body = httpx.get(
            f"{server.url}/api/2026-05/mediaLibrary/{ENTRY}",
            headers={"Authorization": f"Bearer {token}"},
        ).content
    finally:
        server.stop()
    return token, body


def wrk(url: str, seconds: float, token: str | None = None) -> float:
    headers = ["-H", f"Authorization: Bearer {token}"] if token else []
    done = subprocess.run(
        ["wrk", "-t2", "-c8", f"-d{round(seconds)}s", *headers, url],
        capture_output=True,
        text=True,
        check=True,
    )
    if "Non-2xx" in done.stdout or "Socket errors" in done.stdout:
        raise RuntimeError(f"wrk saw errors:\n{done.stdout}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    assert rate is not None, done.stdout
    return float(rate.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--serve", choices=PARSERS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")

    nginx = Nginx()
    home = Path(tempfile.mkdtemp(prefix="medialib-bench-"))
    rates: dict[str, dict[str, list[float]]] = {
        what: {side: [] for side in ("nginx", *PARSERS)} for what in ("healthz", "entry")
    }
    try:
        token, body = _installation(home)
        nginx.files.mkdir(parents=True)
        (nginx.files / "healthz").write_bytes(json.dumps({"status": "ok"}).encode())
        (nginx.files / "entry").write_bytes(body)
        nginx.start()
        for number in range(1, args.rounds + 1):
            rates["healthz"]["nginx"].append(wrk(nginx.url("healthz"), args.seconds))
            rates["entry"]["nginx"].append(wrk(nginx.url("entry"), args.seconds))
            for side in PARSERS:
                server = Server(home, side)
                try:
                    rates["healthz"][side].append(wrk(f"{server.url}/healthz", args.seconds))
                    entry_url = f"{server.url}/api/2026-05/mediaLibrary/{ENTRY}"
                    rates["entry"][side].append(wrk(entry_url, args.seconds, token))
                finally:
                    server.stop()
            shown = "; ".join(
                f"{what}: " + ", ".join(f"{side} {r[-1]:,.0f}/s" for side, r in sides.items())
                for what, sides in rates.items()
            )
            print(f"round {number}: {shown}", flush=True)
    finally:
        nginx.stop()
        shutil.rmtree(home, ignore_errors=True)

    print(f"\nHTTP layer, wrk 2 threads x 8 connections, {args.rounds} interleaved rounds")
    for what, sides in rates.items():
        print(f"  {what}:")
        for side, found in sides.items():
            print(f"    {side:10} {statistics.median(found):8,.0f} requests/s (median)")
        for ours, limit in (("httptools", "h11"), ("httptools", "nginx")):
            ratios = [o / lim for o, lim in zip(sides[ours], sides[limit], strict=True)]
            listed = ", ".join(f"{r:.2f}" for r in ratios)
            print(
                f"    {ours} / {limit}, median of rounds: {statistics.median(ratios):.2f}"
                f"  ({listed})"
            )


if __name__ == "__main__":
    main()
