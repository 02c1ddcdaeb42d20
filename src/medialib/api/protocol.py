"""The HTTP/1.1 protocol uvicorn serves the app with: httptools, bounded.

httptools (llhttp) parses about half as fast again as h11 (bench/http_server.py), but it sets
no bound on a request's head: it buffers a header until its end, so one request could make a
process hold gigabytes. This protocol counts the bytes it is fed between the end of one head and
the end of the next, and answers 431 and closes once they pass MAX_HEAD_BYTES (at most one read
of the socket beyond it is ever buffered). Bodies are not counted: their bound is the app's.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD_BYTES = 64 * 1024

_TOO_LARGE = b"Request head too large"
_REFUSAL = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: %d\r\n"
    b"connection: close\r\n\r\n%s" % (len(_TOO_LARGE), _TOO_LARGE)
)


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True  # a connection starts with a head
        self._head_bytes = 0

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)  # may end this head (and begin the next)
        if self._in_head and self._head_bytes > MAX_HEAD_BYTES and not self.transport.is_closing():
            self.transport.write(_REFUSAL)
            self.transport.close()

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_head = True  # what comes next is the next request's head
        super().on_message_complete()


# uvicorn's HTTP settings, for `medialib serve` and the test servers alike.
HTTP_OPTIONS: dict[str, Any] = {
    "http": BoundedHttpToolsProtocol,
    "ws": "none",  # no WebSocket routes: nothing to load wsproto for
}
