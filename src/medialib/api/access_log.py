"""One line per HTTP request, and the request id every other line of the request carries.

The line names the route's template (`/api/{version}/import/images`), never the path as sent:
a path or a query may carry a capability (an upload URL's signature, a rendition's `s`), and
templates keep a log stack's counts by route small. The request id is the caller's
`X-Request-Id` when it sent a sane one (a proxy in front may have made it), else a new one; the
answer carries it back, so a caller can name the request to an operator.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from medialib import logs

log = logging.getLogger("medialib.access")

HEADER = b"x-request-id"
_SANE_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        line = _Line(scope, request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                line.status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != HEADER]
                message["headers"] = [*headers, (HEADER, request_id.encode())]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                line.write()  # before the answer's end: whoever reads the answer finds its line
            await send(message)

        with logs.bind(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                line.write()  # when the app failed, or the client went away, before the end


class _Line:
    def __init__(self, scope: Scope, request_id: str) -> None:
        self.scope = scope
        self.root = scope.get("root_path", "")
        self.started = time.perf_counter()
        self.status = 500  # what the client gets when the app fails before answering
        self.written = False

    def write(self) -> None:
        if self.written:
            return
        self.written = True
        method, route = self.scope["method"], route_template(self.scope, self.root)
        log.info(
            "%s %s %d",
            method,
            route or "(no route)",
            self.status,
            extra={
                "method": method,
                "route": route,
                "status": self.status,
                "duration_ms": round((time.perf_counter() - self.started) * 1000, 1),
            },
        )


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == HEADER and _SANE_ID.fullmatch(value):
            given: bytes = value
            return given.decode()
    return uuid.uuid4().hex


def route_template(scope: Scope, root: str) -> str | None:
    """The template of the route that answered, with the prefix of the app it is mounted in
    (`/ui/jobs/{job_id}`); None when no route matched (a 404, a static file)."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not isinstance(template, str):
        return None
    mounted: str = scope.get("root_path", "")
    prefix = mounted[len(root) :] if mounted.startswith(root) else ""
    return prefix + template
