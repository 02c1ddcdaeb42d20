"""A real archive server on 127.0.0.1 for import tests: files, redirects, errors, slow and
lying bodies, and a gate that holds answers until a test lets them go."""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from tests.support.sites import serve_on_loopback

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Origin:
    host: str = "127.0.0.1"
    hits: collections.Counter[str] = field(default_factory=collections.Counter)
    # Set when a gated path's body has been written out.
    sent: dict[str, asyncio.Event] = field(default_factory=dict)
    # (path, time.monotonic()) of every request, as it arrived.
    starts: list[tuple[str, float]] = field(default_factory=list)
    # Paths whose client closed the connection while a `slow` answer was held.
    aborted: list[str] = field(default_factory=list)
    # Handlers are cancelled when their client disconnects (needed to see `aborted`).
    cancel_on_disconnect: bool = False
    _changed: asyncio.Event = field(default_factory=asyncio.Event)  # replaced on each change
    _routes: dict[str, Handler] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    port: int = 0

    def url(self, path: str, host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}/{path.lstrip('/')}"

    async def start(self) -> Origin:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._dispatch)
        self._runner, self.port = await serve_on_loopback(
            app, cancel_on_disconnect=self.cancel_on_disconnect
        )
        return self

    async def seen(self, count: Callable[[], int], at_least: int, timeout: float = 30) -> None:
        """Awaits (without polling) until `count()`, a count of `starts` or `aborted`, reaches
        `at_least`."""
        async with asyncio.timeout(timeout):
            while count() < at_least:
                await self._changed.wait()

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        self.hits[path] += 1
        self.starts.append((path, time.monotonic()))
        self._notify()
        handler = self._routes.get(path)
        if handler is None:
            return web.Response(status=404, text="not here")
        return await handler(request)

    def route(self, path: str, handler: Handler) -> str:
        """Serve `path` (a query string in it is part of the URL, not of the route)."""
        self._routes[path.lstrip("/").split("?", 1)[0]] = handler
        return self.url(path)

    def file(self, path: str, body: bytes, content_type: str = "application/octet-stream") -> str:
        async def serve(_: web.Request) -> web.StreamResponse:
            return web.Response(body=body, content_type=content_type)

        return self.route(path, serve)

    def status(self, path: str, status: int) -> str:
        async def serve(_: web.Request) -> web.StreamResponse:
            return web.Response(status=status, text=f"status {status}")

        return self.route(path, serve)

    def redirect(self, path: str, to: str, status: int = 302) -> str:
        async def serve(_: web.Request) -> web.StreamResponse:
            return web.Response(status=status, headers={"Location": to})

        return self.route(path, serve)

    def flaky(self, path: str, body: bytes, failures: int, status: int = 500) -> str:
        """Answers `status` the first `failures` times, then the body."""

        async def serve(_: web.Request) -> web.StreamResponse:
            if self.hits[path.lstrip("/")] <= failures:
                return web.Response(status=status, text="try again")
            return web.Response(body=body, content_type="image/jpeg")

        return self.route(path, serve)

    def drip(self, path: str, body: bytes, pause: float) -> str:
        """Sends the body a byte at a time, `pause` seconds apart (a slow, stuck server)."""

        async def serve(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
            await response.prepare(request)
            for byte in body:
                await response.write(bytes([byte]))
                await asyncio.sleep(pause)
            return response

        return self.route(path, serve)

    def endless(self, path: str, head: bytes, chunk: int = 64 * 1024) -> str:
        """A body that never ends (and says nothing of its length)."""

        async def serve(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
            await response.prepare(request)
            await response.write(head)
            filler = b"\x00" * chunk
            while True:
                await response.write(filler)

        return self.route(path, serve)

    def together(self, path: str, body: bytes, parties: int) -> str:
        """Answers nobody until `parties` requests are waiting, then all of them at once."""
        arrived = asyncio.Event()

        async def serve(_: web.Request) -> web.StreamResponse:
            if self.hits[path.lstrip("/")] >= parties:
                arrived.set()
            await arrived.wait()
            return web.Response(body=body, content_type="image/jpeg")

        return self.route(path, serve)

    def gated(self, path: str, body: bytes, gate: asyncio.Event) -> str:
        """Holds the answer until `gate` is set; `sent[path]` is set once a body went out."""
        sent = self.sent[path.lstrip("/")] = asyncio.Event()

        async def serve(request: web.Request) -> web.StreamResponse:
            await gate.wait()
            response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
            response.content_length = len(body)
            await response.prepare(request)
            await response.write(body)
            await response.write_eof()
            sent.set()
            return response

        return self.route(path, serve)

    def slow(self, path: str, body: bytes, release: asyncio.Event) -> str:
        """Sends the headers and the body's first bytes at once, the rest once `release` is set
        (a slow archive); a client that closes the connection meanwhile is noted in `aborted`
        (with `cancel_on_disconnect`)."""
        key = path.lstrip("/")

        async def serve(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
            response.content_length = len(body)
            await response.prepare(request)
            await response.write(body[: len(body) // 2])
            try:
                await release.wait()
            except asyncio.CancelledError:
                self.aborted.append(key)
                self._notify()
                raise
            await response.write(body[len(body) // 2 :])
            await response.write_eof()
            return response

        return self.route(path, serve)
