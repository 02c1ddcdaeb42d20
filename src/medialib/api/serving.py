"""Stored bytes over HTTP: entity tags, conditional and range requests, and the headers that
keep a browser from running what strangers uploaded. Shared by `/media` and `serve-image`."""

from __future__ import annotations

import datetime as dt
import email.utils
import re

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from medialib.errors import NotFound, RangeNotSatisfiable
from medialib.library.renditions import Rendition, Variant
from medialib.media.storage import ObjectBody, ObjectInfo, Storage
from medialib.parsing import is_media_type

# ASCII digits, at most 18 (`\d` takes any script's, and `int` refuses more than 4300 of them);
# a longer number is past any body, and a server may ignore a Range it does not take.
_RANGE = re.compile(r"bytes=([0-9]{0,18})-([0-9]{0,18})")
# Served bytes came from strangers: never let a browser run or sniff them.
SAFETY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"
    ),
}
# A variant's key names its bytes for good: caches may keep it as long as they like.
IMMUTABLE = "public, max-age=31536000, immutable"
# A variant made and not stored (its original has as many as it may keep) has no key that
# `mediaLibrary/{id}/keys` could list for a CDN to purge: caches keep it briefly, so that a
# revoked entry's renditions leave them soon.
UNSTORED = "public, max-age=300"


async def serve_object(
    request: Request, storage: Storage, key: str, mime_type: str, missing: NotFound
) -> Response:
    """The object at `key`, whole or a range of it, or 304 when the client has it."""
    if not is_media_type(mime_type):
        # Recorded before types were checked (`application/x一` cannot be a header): served as
        # bytes of no known type, which no browser runs.
        mime_type = "application/octet-stream"
    info = await storage.head(key)
    if info is None:
        raise missing
    headers = _validators(info) | SAFETY_HEADERS | {"Accept-Ranges": "bytes"}
    if _not_modified(request, info, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    byte_range = _requested_range(request, info, headers["ETag"])
    if request.method == "HEAD" or info.size == 0:
        headers["Content-Length"] = str(info.size)
        return Response(status_code=200, headers=headers, media_type=mime_type)
    body = await storage.get(key, byte_range)
    if body is None:
        raise missing
    headers["Content-Length"] = str(body.end - body.start)
    status = 200
    if byte_range is not None:
        status = 206
        headers["Content-Range"] = f"bytes {body.start}-{body.end - 1}/{info.size}"
    return StreamingResponse(body.chunks, status_code=status, headers=headers, media_type=mime_type)


def variant_headers(variant: Variant, *, stored: bool = True) -> dict[str, str]:
    headers = {"ETag": variant.etag, "Cache-Control": IMMUTABLE} | SAFETY_HEADERS
    if not stored:
        headers |= {
            "ETag": variant.unstored_etag,
            "Cache-Control": UNSTORED,
            "X-Medialib-Variant": "not-stored",
        }
    if variant.varies_by_accept:
        headers["Vary"] = "Accept"
    return headers


def unchanged_variant(request: Request, variant: Variant) -> Response | None:
    """304 when the client holds the variant (as stored, or as served unstored), else None."""
    if "if-none-match" not in request.headers:
        return None
    for stored, tag in ((True, variant.etag), (False, variant.unstored_etag)):
        if has_tag(request, tag):
            return Response(status_code=304, headers=variant_headers(variant, stored=stored))
    return None


def variant_response(variant: Variant, made: Rendition) -> Response:
    """A variant's bytes as they came: whole, or streamed from storage as originals are."""
    headers = variant_headers(variant, stored=made.stored)
    headers["Content-Length"] = str(made.size)
    if isinstance(made.body, ObjectBody):
        return StreamingResponse(made.body.chunks, headers=headers, media_type=variant.mime)
    return Response(made.body or b"", headers=headers, media_type=variant.mime)


def has_tag(request: Request, etag: str) -> bool:
    """Whether If-None-Match names `etag` (or `*`)."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is None:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag in tags


def _validators(info: ObjectInfo) -> dict[str, str]:
    tag = (info.etag or f"{info.size:x}-{int(info.last_modified.timestamp() * 1e6):x}").strip('"')
    return {
        "ETag": f'"{tag}"',
        "Last-Modified": email.utils.format_datetime(info.last_modified, usegmt=True),
        "Cache-Control": "public, max-age=3600",
    }


def _not_modified(request: Request, info: ObjectInfo, etag: str) -> bool:
    if request.headers.get("if-none-match") is not None:
        return has_tag(request, etag)
    since = _http_date(request.headers.get("if-modified-since"))
    if since is not None:
        return int(info.last_modified.timestamp()) <= int(since.timestamp())
    return False


def _http_date(text: str | None) -> dt.datetime | None:
    """An HTTP date with its zone, or None for anything else (email.utils raises OverflowError
    for numbers past a C long as well as ValueError)."""
    if not text:
        return None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, OverflowError):
        return None
    return when if when.tzinfo is not None else None


def _requested_range(request: Request, info: ObjectInfo, etag: str) -> tuple[int, int] | None:
    """One byte range [start, end) or None for the whole body. Several ranges get the whole
    body (allowed by RFC 9110); a range that misses the body is a 416."""
    header = request.headers.get("range")
    if not header or (request.headers.get("if-range") not in (None, etag)):
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    size = info.size
    if first == "" and last == "":
        return None
    if first == "":
        length = min(int(last), size)
        start, end = size - length, size
        if length == 0:
            raise RangeNotSatisfiable(size)
    else:
        start = int(first)
        end = min(int(last) + 1, size) if last else size
        if start >= size or end <= start:
            raise RangeNotSatisfiable(size)
    if start == 0 and end == size:
        return None
    return start, end
