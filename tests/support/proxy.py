"""A TCP proxy on 127.0.0.1 that a test can cut and restore: a database or an object store that
goes away for a while, for real (connections refused and dropped), and comes back. While cut it
still accepts, and resets at once, every connection, so a test can see the outage being met."""

from __future__ import annotations

import asyncio
import contextlib

from tests.support.process import free_port


class TcpProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self.down = False
        self.refused = 0  # connections reset while cut
        self._refusal = asyncio.Event()

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._connect, "127.0.0.1", self.port)
        return self

    async def cut(self) -> None:
        """Refuse new connections and drop the open ones."""
        self.down = True
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    async def restore(self) -> None:
        self.down = False

    async def stop(self) -> None:
        await self.cut()
        if self._server is not None:
            self._server.close()
            self._server = None

    async def refused_beyond(self, count: int) -> None:
        """Returns once more than `count` connections were refused in all."""
        while self.refused <= count:
            self._refusal.clear()
            await self._refusal.wait()

    async def _connect(
        self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter
    ) -> None:
        if self.down:
            self.refused += 1
            self._refusal.set()
            client_w.transport.abort()
            return
        try:
            target_r, target_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.transport.abort()
            return
        self._open |= {client_w, target_w}
        await asyncio.gather(self._pipe(client_r, target_w), self._pipe(target_r, client_w))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, RuntimeError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        with contextlib.suppress(OSError, RuntimeError):
            writer.close()
        self._open.discard(writer)
