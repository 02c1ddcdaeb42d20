"""Cached renditions answered before the router: `GET /media/{key}?w=…` whose variant is
stored, which a page of pictures asks for over and over.

A hit is a signature check, its parameters read, one lookup of the original (a key the
library knows, not revoked nor invalid) and one read of the stored variant. Through the router
it cost some 650 µs of CPU here, most of it not the hit's own: some 25 routes tried in turn, the
endpoint's dependencies solved, the exception middleware and the request's exit stack (and
SQLAlchemy running the one read, which `Database.lookup` now spares the route too); this way,
about 150, what `/healthz` costs.

This pure ASGI middleware, the innermost of the app's own (inside the body caps, the request
metrics and the access log, which see a hit as any other request of the route), takes the same
steps with the same functions as the route (`wanted_variant`, `unchanged_variant`,
`variant_response`), so every check holds by construction, and hands everything else to the
router untouched: a URL with no rendition parameter, a key that cannot be one, any check that
fails (the route fails it again and answers as it always has), an SVG original, and a variant
not stored yet (the route makes it).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from medialib.api.routes import media
from medialib.api.serving import unchanged_variant, variant_response
from medialib.library.renditions import Renditions
from medialib.media.storage import is_valid_key

PREFIX = "/media/"
_TEMPLATE = "/media/{key:path}"


class RenditionHits:
    def __init__(self, app: ASGIApp, renditions: Renditions) -> None:
        self.app = app
        self.renditions = renditions
        # The route a hit stands for, by method: the access log and the request metrics name
        # it, as they name it for the requests the router hands it.
        self.routes: dict[str, BaseRoute] = {
            method: route
            for route in media.router.routes
            if getattr(route, "path", None) == _TEMPLATE
            for method in getattr(route, "methods", None) or ()
        }
        assert {"GET", "HEAD"} <= set(self.routes), "the /media route moved: no hit is fast"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = self._key(scope)
        response = None if key is None else await self._hit(scope, key)
        if response is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = self.routes[scope["method"]]
        await response(scope, receive, send)

    def _key(self, scope: Scope) -> str | None:
        """The key of a request that may be a rendition hit: GET or HEAD of `/media/<key>` with
        a query, the key one the library could hold."""
        if scope["type"] != "http" or scope["method"] not in self.routes:
            return None
        if not scope.get("query_string") or _has_body(scope):
            return None
        path = _route_path(scope)
        if path is None or not path.startswith(PREFIX):
            return None
        key = path[len(PREFIX) :]
        return key if is_valid_key(key) else None

    async def _hit(self, scope: Scope, key: str) -> Response | None:
        """The answer when the URL names a stored variant that may be served; None otherwise."""
        request = Request(scope)
        images = self.renditions
        try:
            variant = await media.wanted_variant(request, key, images)
            if variant is None:
                return None
            unchanged = unchanged_variant(request, variant)
            if unchanged is not None:
                return unchanged
            made = await images.hit(variant, body=request.method != "HEAD")
        except Exception:
            # Whatever failed fails again in the route, which answers it as it always has (a
            # 400, 403, 404 or 503 in the API's shape): one way to answer a failure, not two.
            return None
        return None if made is None else variant_response(variant, made)


def _has_body(scope: Scope) -> bool:
    """Whether the request says a body follows. Such a GET is left to the route: answered
    before its body had arrived, the connection would be closed on unread bytes, and the
    client would get a reset instead of the answer."""
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return True
    return False


def _route_path(scope: Scope) -> str | None:
    """The path as the router matches it: behind a proxy's prefix (uvicorn's --root-path) the
    path starts with the prefix, which the router leaves out. None for a path the router reads
    some other way (the prefix alone): the router answers it."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if not root or not path.startswith(root):
        return path
    rest = path[len(root) :]
    return rest if rest.startswith("/") else None
