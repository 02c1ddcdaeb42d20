"""Every request body is capped before it is read, by the family of routes it is sent to.

One pure ASGI middleware in front of the whole app (the web view at `/ui` is mounted inside it),
so that no route can read more than its family's cap, however it reads (`read_json`, Starlette's
`request.form()`, FastAPI's form parameters, a stream to disk):

- a declared Content-Length above the cap is a 413 before the app runs: nothing is read;
- a Content-Length within it needs nothing more: the HTTP parser hands the app exactly that many
  bytes, and the rest of the connection is the next request;
- a chunked body is counted as the app reads it, and the read that passes the cap answers the
  413 itself (the app is told by PayloadTooLarge, and whatever it answers then is dropped): at
  most the cap and one chunk are ever held.

After an early 413 uvicorn keeps the connection: it reads the rest of the body and throws it
away as it comes (nothing is buffered), and the connection serves the next request. Closing it
instead could lose the 413: a close with unread bytes is a reset, which can destroy the answer
before the client reads it (and a client still writing its body sees only the reset).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from medialib.api.errors import as_response
from medialib.errors import PayloadTooLarge

# The web view's forms and upload.js's JSON objects are small, and so is whatever a route that
# takes no body might be sent.
SMALL_BODY_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class BodyCaps:
    api: int  # the JSON API, /api/…: MEDIALIB_MAX_BODY_BYTES
    upload: int  # PUT /uploads/… (a signed upload URL): the largest file any media kind takes
    small: int = SMALL_BODY_BYTES  # the web view at /ui, and every other route

    def of(self, method: str, path: str) -> int:
        if path.startswith("/api/"):
            return self.api
        if method == "PUT" and path.startswith("/uploads/"):
            return self.upload
        return self.small


class CappedBodies:
    def __init__(self, app: ASGIApp, caps: BodyCaps) -> None:
        self.app = app
        self.caps = caps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.caps.of(scope["method"], _route_path(scope))
        declared, chunked = _framing(scope["headers"])
        if declared is not None and declared > cap:
            await _refuse(cap, scope, receive, send)
        elif chunked:
            await _Counted(self.app, cap, scope, receive, send).run()
        else:
            await self.app(scope, receive, send)


def _route_path(scope: Scope) -> str:
    """The path as the routes see it: behind a proxy's prefix (uvicorn's --root-path), uvicorn
    puts the prefix in front of it."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _framing(headers: list[tuple[bytes, bytes]]) -> tuple[int | None, bool]:
    """The declared Content-Length, and whether the body is chunked (uvicorn lowercases names;
    the parser has refused a request with both, or with a length that is not a number)."""
    declared, chunked = None, False
    for name, value in headers:
        if name == b"content-length" and value.isdigit():
            declared = int(value)
        elif name == b"transfer-encoding":
            chunked = True
    return declared, chunked


def _too_large(cap: int) -> PayloadTooLarge:
    return PayloadTooLarge(details={"body": f"The body must not be larger than {cap} bytes."})


async def _refuse(cap: int, scope: Scope, receive: Receive, send: Send) -> None:
    await as_response(_too_large(cap))(scope, receive, send)


class _Counted:
    """One request with a chunked body, its bytes counted as the app reads them."""

    def __init__(self, app: ASGIApp, cap: int, scope: Scope, receive: Receive, send: Send) -> None:
        self.app, self.cap, self.scope = app, cap, scope
        self.outer_receive, self.outer_send = receive, send
        self.read = 0
        self.started = False  # the app's answer has begun: too late for a 413
        self.refused = False  # the 413 has gone

    async def run(self) -> None:
        try:
            await self.app(self.scope, self.receive, self.send)
        except PayloadTooLarge:
            if not self.refused:  # its answer had begun: nothing left to say
                raise

    async def receive(self) -> Message:
        message = await self.outer_receive()
        if message["type"] == "http.request":
            self.read += len(message.get("body", b""))
            if self.read > self.cap:
                if not self.started:
                    self.refused = True
                    await _refuse(self.cap, self.scope, self.outer_receive, self.outer_send)
                raise _too_large(self.cap)
        return message

    async def send(self, message: Message) -> None:
        if self.refused:
            return  # the 413 went first; the app's answer to PayloadTooLarge is not wanted
        if message["type"] == "http.response.start":
            self.started = True
        await self.outer_send(message)
