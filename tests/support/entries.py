"""Entries to import in tests, and helpers to make them exist."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.support.stack import Stack


def unique(prefix: str = "e") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def new_key(extension: str = "jpeg") -> str:
    return f"2026/11/23/{uuid.uuid4()}.{extension}"


def image_asset(key: str, **changes: Any) -> dict[str, Any]:
    asset = {
        "key": key,
        "url": f"https://archive.example/{key}",
        "size": 1234,
        "width": 640,
        "height": 480,
        "filename": "picture.jpeg",
        "mimeType": "image/jpeg",
    }
    asset.update(changes)
    return {k: v for k, v in asset.items() if v is not None}


def file_asset(key: str, **changes: Any) -> dict[str, Any]:
    asset = {"key": key, "size": 3028, "filename": "doc.pdf", "mimeType": "application/pdf"}
    asset.update(changes)
    return {k: v for k, v in asset.items() if v is not None}


def video_asset(key: str, poster: str | None = None, **changes: Any) -> dict[str, Any]:
    """A video asset as seed 003 shows one, with a poster frame at `poster` if given."""
    asset: dict[str, Any] = {
        "key": key,
        "url": f"https://archive.example/{key}",
        "size": 8633462,
        "width": 1280,
        "height": 720,
        "duration": 35.241667,
        "filename": "fire.mp4",
        "mimeType": "video/mp4",
    }
    if poster is not None:
        asset["poster"] = {"key": poster, "width": 1280, "height": 720}
    asset.update(changes)
    return {k: v for k, v in asset.items() if v is not None}


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


async def stored_image(stack: Stack, api: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    """An image entry that exists; returns its record."""
    key = new_key()
    await stack.put_asset(key)
    [result] = await import_entries(api, [image_entry(key, **changes)])
    assert result["ok"], result
    record: dict[str, Any] = result["record"]
    return record
