"""Every HTTP request counted and timed, by method, route template and status: one pure ASGI
middleware around the whole app (the web view at `/ui` too). The route is the template the
router matched (`/api/{version}/mediaLibrary/{id}`), never the path asked for, so a label takes
as many values as there are routes; a request no route matched is `unmatched`."""

from __future__ import annotations

import time

from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from medialib import metrics

UNMATCHED = "unmatched"


class RequestMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers when the app fails before it starts an answer

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            labels = (metrics.method_label(scope["method"]), route_template(scope), str(status))
            metrics.HTTP_REQUESTS.labels(*labels).inc()
            metrics.HTTP_DURATION.labels(*labels).observe(time.perf_counter() - started)


def route_template(scope: Scope) -> str:
    """The template of the route the request reached. Routers record an endpoint's route in the
    scope, which a mounted app shares, its mount's path then part of the scope's `root_path`; a
    mounted app that answers without a route of its own (static files, its 404) stands for all
    the paths under its mount."""
    root: str = scope.get("root_path", "")
    mounted = root[len(scope.get("app_root_path", "")) :]
    route = scope.get("route")
    template = getattr(route, "path", None)
    if isinstance(template, str) and not isinstance(route, Mount):
        return mounted + template
    return f"{mounted}/{{path}}" if mounted else UNMATCHED
