"""A raw HTTP/1.1 connection for tests of the protocol itself: bytes out exactly as written, and
everything the server answers collected as it arrives, until it closes.

The collecting starts at the connect: a server that refuses and closes while bytes it has not
read are still coming resets the connection, and an answer that arrived before the reset must
still be seen (asyncio's stream reader raises the reset first to a reader that comes late).
"""

from __future__ import annotations

import asyncio
import contextlib

CLOSE_WITHIN = 10.0  # seconds: far beyond any deadline the tests set


class RawConnection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.received = bytearray()
        self._taken = 0  # bytes of `received` already returned as responses
        self._arrived = asyncio.Event()
        self._collecting = asyncio.create_task(self._collect(reader))

    @classmethod
    async def open(cls, host: str, port: int) -> RawConnection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def _collect(self, reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(ConnectionError):  # a reset (or a broken pipe) ends it too
            while chunk := await reader.read(65536):
                self.received += chunk
                self._arrived.set()
        self._arrived.set()

    @property
    def taken(self) -> int:
        """Bytes of `received` already returned by `response`."""
        return self._taken

    @property
    def is_closed(self) -> bool:
        return self._collecting.done()

    async def send(self, data: bytes) -> None:
        """Write `data`; if the server has hung up meanwhile, what it answered is kept."""
        with contextlib.suppress(ConnectionError):
            self.writer.write(data)
            await self.writer.drain()

    async def closed(self) -> bytes:
        """Wait for the server to close the connection; all it answered."""
        try:
            await asyncio.wait_for(asyncio.shield(self._collecting), CLOSE_WITHIN)
        except TimeoutError:
            raise AssertionError(f"the server kept the connection open {CLOSE_WITHIN} s") from None
        return bytes(self.received)

    async def response(self) -> tuple[int, bytes]:
        """The next whole response (status and body, by its Content-Length)."""
        async with asyncio.timeout(CLOSE_WITHIN):
            while (found := self._next_response()) is None:
                if self.is_closed:
                    raise AssertionError(f"closed: {bytes(self.received[self._taken :])!r}")
                self._arrived.clear()
                await self._arrived.wait()
        return found

    def _next_response(self) -> tuple[int, bytes] | None:
        end = self.received.find(b"\r\n\r\n", self._taken)
        if end < 0:
            return None
        head = bytes(self.received[self._taken : end]).decode("latin-1").lower()
        length = int(head.split("content-length:", 1)[1].split("\r\n", 1)[0])
        if len(self.received) < end + 4 + length:
            return None
        self._taken = end + 4 + length
        return int(head.split(" ", 2)[1]), bytes(self.received[end + 4 : self._taken])

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()
        self._collecting.cancel()
