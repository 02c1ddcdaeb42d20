"""The HTTP/1.1 protocol uvicorn serves the app with: httptools, bounded in size and in time.

httptools (llhttp) parses about half as fast again as h11 (bench/http_server.py), but it bounds
nothing: it buffers a header until its end, so one request could make a process hold gigabytes,
and it waits for a head or a body for ever, so a client that sends slowly holds a connection (and
its file descriptor) for as long as it likes. This protocol adds the bounds:

- Size. A request head may have MAX_HEAD_BYTES: one byte more, unfinished or not, is a 431 and
  the connection is closed. The parser is never fed more bytes at once than the head in progress
  may still grow by, so however the head is split into reads, and whatever shares a read with it
  (its body, or the request before it), the bound holds.
- Time. A head must arrive whole within `Deadlines.head` seconds of its first byte (a
  connection's first head: of the connect, so that a connection that sends nothing is let go
  too); then it gets a 408 and the connection is closed (a connection that sent nothing is just
  closed: a 408 there would be read as the answer to whatever the client sends next). A body must
  bring MIN_BODY_BYTES (or its end) in every `Deadlines.body` seconds, or the connection is
  closed: a body that stalls, or trickles a byte at a time, holds nothing for long. Between
  requests uvicorn's own keep-alive timeout applies, as before.

Per request this costs a few attribute writes and one clock read; time is kept by one timer per
connection that is re-armed only when it fires (deadlines only move later, and the timer is
never armed further ahead than the shorter deadline, so it never fires late).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from medialib.settings import Settings

MAX_HEAD_BYTES = 64 * 1024
# Below this a body is taken to be trickled, not sent: 1 KB in each window is ~34 bytes/s at the
# default window, under any real link's rate, and a trickle of a byte a second stays under it.
MIN_BODY_BYTES = 1024


@dataclass(frozen=True, slots=True)
class Deadlines:
    head: float  # seconds for a whole request head (MEDIALIB_HEAD_TIMEOUT)
    body: float  # seconds in which a body must bring MIN_BODY_BYTES (MEDIALIB_BODY_TIMEOUT)


def _answer(status: bytes, text: bytes) -> bytes:
    return (
        b"HTTP/1.1 %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
        b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (status, len(text), text)
    )


TOO_LARGE = _answer(b"431 Request Header Fields Too Large", b"Request head too large")
TOO_SLOW = _answer(b"408 Request Timeout", b"Request head not received in time")


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, deadlines: Deadlines, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadlines = deadlines
        self._tick = min(deadlines.head, deadlines.body)  # the timer is never armed further
        self._in_head = True  # a connection starts with a head
        self._head_bytes = 0  # of the head in progress
        self._head_since: float | None = None  # its first byte; None until one comes
        self._read_bytes = 0  # all bytes read, for the body's windows
        self._window_end: float | None = None  # of the body's window in progress
        self._window_mark = 0  # _read_bytes when that window began
        self._timer: asyncio.TimerHandle | None = None
        self._refusal: bytes | None = None  # a 431 or 408 waiting for the answers before it

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_since = now = self.loop.time()
        self._arm(now)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().connection_lost(exc)

    # Size

    def data_received(self, data: bytes) -> None:
        if self._refusal is not None:
            return  # refused: what still comes is read (a close with bytes unread would reset
            # the connection, and could destroy the answers before the refusal) and dropped
        self._read_bytes += len(data)
        room = MAX_HEAD_BYTES - self._head_bytes if self._in_head else MAX_HEAD_BYTES
        if len(data) <= room:
            self._feed(data, data, 0, len(data))
        else:
            self._feed_in_pieces(data)
        if self._timer is None and (self._head_since is not None or not self._in_head):
            self._arm(self.loop.time())  # the client owes something, and nothing times it

    def _feed_in_pieces(self, data: bytes) -> None:
        """Feed `data` in pieces no larger than the head in progress may grow by (or than a head
        may be, between heads): a head that passes the bound is caught before it can end."""
        view, start = memoryview(data), 0
        while start < len(data) and not self.transport.is_closing():
            room = MAX_HEAD_BYTES - self._head_bytes if self._in_head else MAX_HEAD_BYTES
            if room == 0:  # a whole bound's worth of an unfinished head, and more coming
                self._refuse(TOO_LARGE)
                return
            end = min(len(data), start + room)
            self._feed(data, view[start:end], start, end)
            start = end

    def _feed(self, data: bytes, piece: bytes | memoryview, start: int, end: int) -> None:
        """Parse `piece`, which is data[start:end], charging it to the head in progress."""
        if self._in_head:
            self._head_bytes += end - start  # all of it: if the head ends inside, it's reset
        super().data_received(piece)  # type: ignore[arg-type]  # httptools takes a memoryview
        if self._in_head and self._head_bytes == 0 and self._head_since is not None:
            self._charge_tail(data, start, end)  # a request ended inside, and the next began

    def _charge_tail(self, data: bytes, start: int, end: int) -> None:
        """A request ended inside data[start:end] and the next one's head began after it (a
        pipelined request). The parser does not say where, but a head in progress holds no blank
        line, so it began after the piece's last one: charge it from there. (Behind a body that
        holds none, that is from the piece's start: the bound errs towards refusing.)"""
        blank = data.rfind(b"\r\n\r\n", start, end)
        self._head_bytes = end - (blank + 4 if blank >= 0 else start)

    def on_message_begin(self) -> None:
        # llhttp calls this at a request's first byte (blank lines before one are skipped).
        if self._head_since is None:  # (a connection's first head is timed from the connect)
            self._head_since = self.loop.time()
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._window_end = None  # the body's first window begins at the next check
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_head = True  # what comes next is the next request's head
        self._head_bytes = 0
        self._head_since = None  # until its first byte: keep-alive's time, not the head's
        super().on_message_complete()

    # Time

    def _arm(self, now: float) -> None:
        """Arm the timer for the deadline in progress, if the client owes anything."""
        if self._in_head:
            if self._head_since is None:
                return  # between requests
            due = self._head_since + self._deadlines.head
        else:
            due = now if self._window_end is None else self._window_end
        self._timer = self.loop.call_at(min(due, now + self._tick), self._check)

    def _check(self) -> None:
        self._timer = None
        if self.transport.is_closing() or self._refusal is not None:
            return
        now = self.loop.time()
        if self._in_head:
            self._check_head(now)
        else:
            self._check_body(now)
        if not self.transport.is_closing() and self._refusal is None:
            self._arm(now)

    def _check_head(self, now: float) -> None:
        if self._head_since is None:
            return  # between requests
        if self.flow.read_paused:  # uvicorn stopped reading (requests queued), not the client
            self._head_since = now
        elif now >= self._head_since + self._deadlines.head:
            if self._head_bytes:
                self._refuse(TOO_SLOW)
            else:
                self.transport.close()  # a connection that never sent anything: no answer

    def _check_body(self, now: float) -> None:
        if self._window_end is not None:
            if now < self._window_end:
                return  # the timer was armed early (it is never armed further than the tick)
            if self._read_bytes - self._window_mark < MIN_BODY_BYTES and not self._excused():
                self.transport.close()  # the app, reading it, is told the client went away
                return
        self._window_end, self._window_mark = now + self._deadlines.body, self._read_bytes

    def _excused(self) -> bool:
        """Whether the client could not send: uvicorn has stopped reading (the app has not
        taken what it holds), or the client waits to be asked (Expect: 100-continue)."""
        return self.flow.read_paused or self.cycle.waiting_for_100_continue

    # Refusals

    def _refuse(self, answer: bytes) -> None:
        """Answer `answer` and close, after the answers to the requests before it."""
        self._refusal = answer
        if self.cycle is None or self.cycle.response_complete:
            self._close_refused()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._refusal is not None and not self.pipeline and self.cycle.response_complete:
            self._close_refused()

    def _close_refused(self) -> None:
        if not self.transport.is_closing():
            assert self._refusal is not None
            self.transport.write(self._refusal)
            self.transport.close()


def http_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's HTTP settings, for `medialib serve` and the test servers alike."""
    deadlines = Deadlines(head=settings.head_timeout, body=settings.body_timeout)
    return {
        "http": partial(BoundedHttpToolsProtocol, deadlines=deadlines),
        "ws": "none",  # no WebSocket routes: nothing to load wsproto for
    }


# The defaults, whatever the environment says (bench/http_server.py).
HTTP_OPTIONS = http_options(Settings.model_construct())
