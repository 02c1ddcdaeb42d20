"""Entries to import in tests, and helpers to make them exist."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from medialib.db.engine import Tx
from medialib.db.search_index import index_new_entries
from medialib.db.tables import media_entries
from tests.support import media, videos
from tests.support.stack import Stack


def unique(prefix: str = "e") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def new_key(extension: str = "jpeg") -> str:
    return f"2026/11/23/{uuid.uuid4()}.{extension}"


# A video as callers store one before registering it (its asset says 1280x720: video
# dimensions are not read from the first bytes).
STORED_MP4 = videos.video("mp4", seconds=1.0)


def image_asset(key: str, **changes: Any) -> dict[str, Any]:
    asset = {
        "key": key,
        "url": f"https://archive.example/{key}",
        "size": len(media.STORED_JPEG),
        "width": 640,
        "height": 480,
        "filename": "picture.jpeg",
        "mimeType": "image/jpeg",
    }
    asset.update(changes)
    return {k: v for k, v in asset.items() if v is not None}


def file_asset(key: str, **changes: Any) -> dict[str, Any]:
    # Files are not checked for their type: the stored JPEG does for a PDF.
    size = len(media.STORED_JPEG)
    asset = {"key": key, "size": size, "filename": "doc.pdf", "mimeType": "application/pdf"}
    asset.update(changes)
    return {k: v for k, v in asset.items() if v is not None}


def video_asset(key: str, poster: str | None = None, **changes: Any) -> dict[str, Any]:
    """A video asset as seed 003 shows one (the size of `STORED_MP4`), with a poster frame at
    `poster` if given (the size of the stored JPEG)."""
    asset: dict[str, Any] = {
        "key": key,
        "url": f"https://archive.example/{key}",
        "size": len(STORED_MP4),
        "width": 1280,
        "height": 720,
        "duration": 35.241667,
        "filename": "fire.mp4",
        "mimeType": "video/mp4",
    }
    if poster is not None:
        asset["poster"] = {"key": poster, "width": 640, "height": 480}
    asset.update(changes)
    return {k: v for k, v in asset.items() if v is not None}


def shared(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry, its asset's object shared on purpose with other entries."""
    entry["asset"]["shared"] = True
    return entry


def image_entry(key: str, **changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "systemName": "archive",
        "externalId": unique("ext"),
        "mediaType": "image",
        "asset": image_asset(key),
        "metadata": {"title": "A picture"},
    }
    entry.update(changes)
    return {k: v for k, v in entry.items() if v is not None}


async def import_entries(
    api: httpx.AsyncClient, entries: list[Any], version: str = "2026-05"
) -> list[dict[str, Any]]:
    response = await api.post(
        f"/api/{version}/import/mediaLibrary", json={"mediaLibraryEntries": entries}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    results: list[dict[str, Any]] = body["results" if "results" in body else "mediaLibraryEntries"]
    return results


async def stored_image(
    stack: Stack,
    api: httpx.AsyncClient,
    asset_changes: dict[str, Any] | None = None,
    **changes: Any,
) -> dict[str, Any]:
    """An image entry that exists; returns its record."""
    key = new_key()
    await stack.put_asset(key)
    entry = image_entry(key, **changes)
    entry["asset"].update(asset_changes or {})
    [result] = await import_entries(api, [entry])
    assert result["ok"], result
    record: dict[str, Any] = result["record"]
    return record


def faithful_bytes(asset: dict[str, Any]) -> bytes:
    """Bytes that are what `asset` says: an image of its type and dimensions, a video of its
    type, padded to its size (decoders stop at the end of their data)."""
    mime = str(asset.get("mimeType", ""))
    if mime.startswith("image/"):
        fmt = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}
        data = media.image_bytes(fmt[mime], asset["width"], asset["height"])
    elif mime.startswith("video/"):
        data = STORED_MP4
    else:
        data = b"%PDF-1.4\n"
    size = int(asset.get("size", len(data)))
    assert len(data) <= size, f"{len(data)} bytes of {mime} do not fit in {size}"
    return data + b"\0" * (size - len(data))


async def insert_rows(stack: Stack, rows: list[dict[str, Any]]) -> None:
    """Entries' rows written straight into the database, as a writer of the library does: with
    their words added to the full-text index (db/search_index.py)."""

    def write(tx: Tx) -> None:
        tx.execute(media_entries.insert(), rows)
        index_new_entries(tx)

    await stack.runtime.db.transact(write)
