"""`GET /media/{key}`: stored assets, with ETag, conditional and range requests.

Only keys the library knows (the `assets` table) are served, with the type recorded when they
were stored, and never while their entry is revoked.
"""

from __future__ import annotations

import email.utils
import re

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response, StreamingResponse

from medialib.api.deps import runtime
from medialib.api.schemas import ErrorBody
from medialib.bootstrap import Runtime
from medialib.errors import NotFound, RangeNotSatisfiable
from medialib.library.assets import servable
from medialib.media.storage import ObjectInfo

router = APIRouter(tags=["media"])

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
# Served bytes came from strangers: never let a browser run or sniff them.
_SAFETY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"
    ),
}


@router.head("/media/{key:path}", include_in_schema=False)
@router.get(
    "/media/{key:path}",
    summary="Serve a stored asset",
    response_class=Response,
    responses={
        200: {"description": "The asset's bytes", "content": {"*/*": {}}},
        206: {"description": "A range of the asset's bytes", "content": {"*/*": {}}},
        304: {"description": "Not modified"},
        403: {"model": ErrorBody, "description": "The asset's entry is revoked"},
        404: {"model": ErrorBody, "description": "No such asset"},
        416: {"model": ErrorBody, "description": "The range is outside the asset"},
        503: {"model": ErrorBody, "description": "The storage cannot be reached"},
    },
)
async def serve_media(key: str, request: Request, rt: Runtime = Depends(runtime)) -> Response:
    mime_type = await servable(rt.db, key)
    info = await rt.storage.head(key)
    if info is None:
        raise NotFound(details={"message": "No asset found."})
    headers = _validators(info) | _SAFETY_HEADERS | {"Accept-Ranges": "bytes"}
    if _not_modified(request, info, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    byte_range = _requested_range(request, info, headers["ETag"])
    if request.method == "HEAD" or info.size == 0:
        headers["Content-Length"] = str(info.size)
        return Response(status_code=200, headers=headers, media_type=mime_type)
    body = await rt.storage.get(key, byte_range)
    if body is None:
        raise NotFound(details={"message": "No asset found."})
    headers["Content-Length"] = str(body.end - body.start)
    status = 200
    if byte_range is not None:
        status = 206
        headers["Content-Range"] = f"bytes {body.start}-{body.end - 1}/{info.size}"
    return StreamingResponse(body.chunks, status_code=status, headers=headers, media_type=mime_type)


def _validators(info: ObjectInfo) -> dict[str, str]:
    tag = (info.etag or f"{info.size:x}-{int(info.last_modified.timestamp() * 1e6):x}").strip('"')
    return {
        "ETag": f'"{tag}"',
        "Last-Modified": email.utils.format_datetime(info.last_modified, usegmt=True),
        "Cache-Control": "public, max-age=3600",
    }


def _not_modified(request: Request, info: ObjectInfo, etag: str) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or etag in tags
    since = request.headers.get("if-modified-since")
    if since:
        try:
            when = email.utils.parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
        return when.tzinfo is not None and int(info.last_modified.timestamp()) <= int(
            when.timestamp()
        )
    return False


def _requested_range(request: Request, info: ObjectInfo, etag: str) -> tuple[int, int] | None:
    """One byte range [start, end) or None for the whole body. Several ranges get the whole
    body (allowed by RFC 9110); a range that misses the body is a 416."""
    header = request.headers.get("range")
    if not header or (request.headers.get("if-range") not in (None, etag)):
        return None
    match = _RANGE.match(header.strip())
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
