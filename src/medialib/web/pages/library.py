"""The library: a grid of thumbnails with search and filters, a page at a time as the reader
scrolls; and files dropped onto it, uploaded by the browser and registered here."""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import JSONResponse, Response

from medialib.api.deps import read_json
from medialib.bootstrap import Runtime
from medialib.errors import BadRequest, MedialibError
from medialib.library.assets import key_problem, not_takeable
from medialib.library.browse import Browse, browse
from medialib.library.entries import EntryImporter
from medialib.library.media_kinds import FILE, IMAGE, VIDEO
from medialib.library.models import Entry
from medialib.library.projects import Project
from medialib.library.similar import entry_groups
from medialib.library.uploads import largest_upload, parse_upload, start_upload
from medialib.media.probe.video import VideoLimits, probe_video
from medialib.media.storage import new_key
from medialib.web.deps import project_of, render, runtime, viewer, writer
from medialib.web.session import Viewer

log = logging.getLogger("medialib.web")
router = APIRouter()
PAGE = 100  # thumbnails a page; the next page loads as the last one scrolls into view
GROUPS_PAGE = 20  # groups of near-duplicates a page
THUMB = {"w": "320", "h": "320", "fit": "crop", "auto": "format"}
UPLOAD_SYSTEM = "web-upload"


def thumbnail(rt: Runtime, entry: Entry) -> str | None:
    """A small rendition of the entry's image, or a video's poster; None for files."""
    asset = entry.asset
    if entry.revoked or entry.invalid:  # its URLs answer 403
        return None
    poster = asset.get("poster")
    key = asset["key"] if str(asset.get("mimeType", "")).startswith("image/") else None
    if key is None and isinstance(poster, dict):
        key = poster.get("key")
    if key is None:
        return None
    urls = rt.urls
    return urls.rendition(key, THUMB) if urls.renders else urls.asset(key)


def _flag(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


@router.get("/library")
async def library_page(
    request: Request,
    q: str | None = Query(None, max_length=500),
    media_type: str | None = Query(None, alias="mediaType", max_length=100),
    system_name: str | None = Query(None, alias="systemName", max_length=200),
    archived: str | None = Query(None, pattern="^(yes|no|)$"),
    revoked: str | None = Query(None, pattern="^(yes|no|)$"),
    cursor: str | None = Query(None, max_length=500),
    who: Viewer = Depends(viewer),
    rt: Runtime = Depends(runtime),
) -> Response:
    ask = Browse(
        media_type=media_type or None,
        system_name=system_name or None,
        archived=_flag(archived),
        revoked=_flag(revoked),
        q=q or None,
        limit=PAGE,
        cursor=cursor or None,
    )
    page = await browse(rt.db, project_of(rt, who), ask)
    filters = {
        "q": q or "",
        "mediaType": media_type or "",
        "systemName": system_name or "",
        "archived": archived or "",
        "revoked": revoked or "",
    }
    cards = [(entry, thumbnail(rt, entry)) for entry in page.entries]
    more = urlencode({k: v for k, v in filters.items() if v})  # a search may hold '&' or '#'

    # htmx asks for cards only: the next page as the last one scrolls into view, or the first
    # page again for the grid after an upload.
    wants_cards = cursor or request.headers.get("hx-target") == "grid"
    cards_only = request.headers.get("hx-request") and wants_cards
    fragment = "_cards.html" if cards_only else "library.html"
    return render(
        fragment,
        request=request,
        who=who,
        cards=cards,
        cursor=page.cursor,
        filters=filters,
        more=more,
        media_types=sorted(project_of(rt, who).media_types),
    )


@router.get("/library/similar")
async def near_duplicates_page(
    request: Request,
    cursor: str | None = Query(None, max_length=100),
    who: Viewer = Depends(viewer),
    rt: Runtime = Depends(runtime),
) -> Response:
    """Groups of near-duplicates, an entry and those near it, a page at a time: an editor
    archives the weaker copies from here."""
    project = project_of(rt, who)
    found, after = await entry_groups(rt.db, project, cursor or None, GROUPS_PAGE)
    shown = [
        (
            [(group.entry, thumbnail(rt, group.entry), None)]
            + [(entry, thumbnail(rt, entry), apart) for entry, apart in group.similar]
        )
        for group in found
    ]
    return render(
        "similar.html",
        request=request,
        who=who,
        groups=shown,
        cursor=after,
        threshold=project.near_duplicate_threshold,
        here=str(request.url.path) + (f"?cursor={quote(cursor)}" if cursor else ""),
    )


@router.post("/uploads")
async def new_upload(
    request: Request, who: Viewer = Depends(writer), rt: Runtime = Depends(runtime)
) -> Response:
    asked = parse_upload(await _json(request), largest_upload(project_of(rt, who), rt.settings))
    upload = await start_upload(
        rt.db, rt.storage, rt.secret, who.principal.project, asked, base_url=_origin(request)
    )
    return JSONResponse({"key": upload.key, "uploadUrl": upload.url, "headers": upload.headers})


async def _json(request: Request) -> Any:
    """The body as JSON (upload.js sends small objects: the web view's bodies are capped at
    64 KB before they are read, api/bodies.py), read and checked as the API reads its bodies,
    or the API's error."""
    return await read_json(request)


def _origin(request: Request) -> str:
    """Where the browser reached medialib (the upload URL is medialib's own, outside /ui)."""
    return f"{request.url.scheme}://{request.url.netloc}"


# What the browser measures (upload.js): an image's size, a video's duration; anything else
# (an SVG too) goes up as a file.
MEASURED_IMAGES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


def media_type_for(project: Project, mime_type: str) -> str:
    kind = FILE
    if mime_type in MEASURED_IMAGES:
        kind = IMAGE
    elif VIDEO.takes_type(mime_type):
        kind = VIDEO
    for handle, media_type in project.media_types.items():
        if media_type.kind == kind.name:
            return handle
    raise BadRequest(details={"mediaType": f"the project has no media type for {mime_type}"})


@router.post("/uploads/register")
async def register_upload(
    request: Request, who: Viewer = Depends(writer), rt: Runtime = Depends(runtime)
) -> Response:
    """Register an uploaded file as a new entry; the browser tells its facts (an image's size,
    a video's duration) and the server checks them against the stored bytes."""
    facts = await _json(request)
    if not isinstance(facts, dict):
        raise BadRequest(details={"body": "must be a JSON object"})
    project = project_of(rt, who)
    mime_type = str(facts.get("mimeType") or "application/octet-stream")
    asset = {
        name: facts[name]
        for name in ("key", "size", "width", "height", "duration")
        if facts.get(name) is not None
    }
    asset |= {"mimeType": mime_type, "filename": str(facts.get("fileName") or "")[:500] or None}
    media_type = media_type_for(project, mime_type)
    if project.media_types[media_type].kind == VIDEO.name and isinstance(asset.get("key"), str):
        poster = await poster_for(rt, who.principal.project, asset["key"])
        if poster is not None:
            asset["poster"] = poster
    entry = {
        "systemName": UPLOAD_SYSTEM,
        "externalId": str(facts.get("key")),
        "mediaType": media_type,
        "asset": {k: v for k, v in asset.items() if v is not None},
        "metadata": {},
    }
    [outcome] = await EntryImporter(rt.db, rt.storage, project, who.actor).run([entry])
    if outcome.failure is not None:
        if "poster" in asset:  # nothing refers to it
            await rt.storage.delete(asset["poster"]["key"])
        return JSONResponse({"error": outcome.failure.message}, status_code=400)
    assert outcome.entry is not None
    return JSONResponse({"id": outcome.entry.id, "url": f"/ui/entries/{outcome.entry.id}"})


async def poster_for(rt: Runtime, project: str, key: str) -> dict[str, Any] | None:
    """A poster frame of the uploaded video at `key`, stored beside it, as the asset names it:
    what an import by URL makes, made here as the browser cannot. None when there is no such
    object, no frame to take, or the key is not one the project may register (the registration
    then says what is wrong): no other project's object is ever read."""
    if key_problem(key) is not None or await not_takeable(rt.db, project, [key]):
        return None
    settings = rt.settings
    limits = VideoLimits(
        max_pixels=settings.video_max_pixels,
        max_seconds=settings.video_max_seconds,
        timeout=settings.video_probe_timeout,
        memory=settings.video_probe_memory,
    )
    copy = settings.temp_dir / f"{uuid.uuid4()}.part"
    poster = copy.with_name(f"{copy.name}.poster.jpeg")
    try:
        # A local store's file is read where it is; a bucket's object is copied out first.
        video = rt.storage.local_path(key) or copy
        if video == copy and not await _copy_out(rt, key, copy):
            return None
        info = await asyncio.to_thread(probe_video, video, poster, limits)
        if info.poster is None:
            return None
        poster_key = new_key("jpeg")
        await rt.storage.put_file(poster_key, poster, content_type="image/jpeg")
    except (MedialibError, OSError) as error:
        log.info("no poster for the upload %s: %s", key, error)
        return None
    finally:
        copy.unlink(missing_ok=True)
        poster.unlink(missing_ok=True)
    size = {"width": info.poster.width, "height": info.poster.height}
    return {"key": poster_key, "mimeType": "image/jpeg"} | size


async def _copy_out(rt: Runtime, key: str, target: Path) -> bool:
    """The stored object into a file of its own (the prober reads a file); False when absent."""
    body = await rt.storage.get(key)
    if body is None:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        async for chunk in body.chunks:
            await asyncio.to_thread(out.write, chunk)
    return True
