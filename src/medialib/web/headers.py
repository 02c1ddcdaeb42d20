"""The headers every response under /ui carries, computed once from the settings.

Jinja's autoescaping is the first defence against markup injected into a page; the
Content-Security-Policy is the second: no inline script, event handler, `javascript:` URL or
inline style runs, so markup that ever slipped through could not execute. The pages need only
what the policy names:

- scripts and styles: the package's own files under /ui/static ('self');
- images: thumbnails and previews from the rendition and asset URLs the pages show, which may be
  another origin (a CDN, a bucket), and `blob:` for upload.js, which reads an image's size from
  the file being uploaded; media (the entry page's video player) from the asset URL, and
  `blob:` for a video's duration, read the same way;
- connections: htmx and upload.js call /ui ('self'); upload.js PUTs the bytes to the upload
  URL, which is this server's own for a local folder ('self'), and on S3 the bucket's presigned
  URL, whose origin is asked of obstore itself (`bucket_origin`);
- forms post to /ui only; no plugin, no <base>, no framing by any page.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import obstore
from obstore.store import S3Store
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from medialib.errors import ConfigError
from medialib.settings import Settings

# The twin's credentials: it only signs, and nothing it signs is ever sent.
_STAND_IN = "stand-in"
_HOST = re.compile(r"[a-z0-9.-]+|\[[0-9a-f:.]+\]", re.ASCII)


def origin_of(url: str, what: str) -> str | None:
    """`scheme://host[:port]` of an absolute http(s) URL, as a policy names a source; None for a
    relative URL (this server's own). Anything else stops the start: a policy must never carry
    what an operator did not mean (a `;` would end a directive)."""
    parts = urlsplit(url)
    if not parts.scheme and not parts.netloc:
        return None
    try:
        host, port = parts.hostname or "", parts.port
    except ValueError:  # a port that is no number
        host, port = "", None
    host = f"[{host}]" if ":" in host else host
    if parts.scheme not in ("http", "https") or not _HOST.fullmatch(host):
        raise ConfigError(f"{what}: {url!r} is not an http(s) URL the web view's policy can name")
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def bucket_origin(settings: Settings) -> str | None:
    """The origin of the URLs the browser PUTs uploads to on S3; None for a local folder.

    obstore makes those URLs from the endpoint (MEDIALIB_S3_ENDPOINT, path-style, as
    media/storage.py opens the store) or, on AWS, from the usual AWS_* variables: by default
    path-style at `https://s3.<region>.amazonaws.com`, or `https://<bucket>.s3.<region>...` with
    AWS_VIRTUAL_HOSTED_STYLE_REQUEST, or AWS_ENDPOINT_URL. Rather than copy those rules, a twin of
    the store with stand-in credentials signs one URL, with no request made (the real
    credentials may be fetched over the network, which a start must not wait for)."""
    storage = urlsplit(settings.resolved_storage_url)
    if storage.scheme != "s3":
        return None
    if settings.s3_endpoint:
        twin = S3Store(
            storage.netloc,
            endpoint=settings.s3_endpoint,
            virtual_hosted_style_request=False,
            access_key_id=_STAND_IN,
            secret_access_key=_STAND_IN,
        )
    else:
        twin = S3Store(storage.netloc, access_key_id=_STAND_IN, secret_access_key=_STAND_IN)
    url = obstore.sign(twin, "PUT", "policy", dt.timedelta(minutes=1))
    return origin_of(url, "the bucket's upload URLs")


def content_security_policy(settings: Settings) -> str:
    assets = origin_of(settings.media_base_url, "the asset URL (MEDIALIB_PUBLIC_URL)")
    images = [
        origin_of(settings.rendition_base_url, "the rendition URL (MEDIALIB_RENDITION_URL)"),
        assets,
    ]
    directives = {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": _sources("'self'", *images, "blob:"),
        # The entry page's video player reads the original from the asset URL.
        "media-src": _sources("'self'", assets, "blob:"),
        "connect-src": _sources("'self'", bucket_origin(settings)),
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def _sources(*given: str | None) -> list[str]:
    """Each source once, in order; None (this server's own) is 'self' already."""
    return list(dict.fromkeys(s for s in given if s is not None))


def security_headers(settings: Settings) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(settings),
        "X-Content-Type-Options": "nosniff",
        # Same-origin: the pages' URLs (entry ids, searches) never reach a CDN or a bucket.
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",  # frame-ancestors, for browsers that predate it
    }


class SecurityHeaders:
    """A pure ASGI middleware: `headers` on every response whose path is under `prefix`.

    It sits outside the whole app rather than in the web view's own, so that what answers a /ui
    request before the web view runs (the body caps' 413, the redirect of `/ui` to `/ui/`) and
    an error the web view did not catch carry the headers too."""

    def __init__(self, app: ASGIApp, headers: dict[str, str], prefix: str = "/ui") -> None:
        self.app = app
        self.raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        self.names = {name for name, _ in self.raw}
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._covers(scope):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                own = [(n, v) for n, v in message.get("headers", []) if n not in self.names]
                message = {**message, "headers": [*own, *self.raw]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _covers(self, scope: Scope) -> bool:
        path: str = scope["path"]
        root: str = scope.get("root_path", "")  # behind a proxy's prefix, uvicorn puts it first
        if root and path.startswith(root):
            path = path[len(root) :]
        return path == self.prefix or path.startswith(self.prefix + "/")
