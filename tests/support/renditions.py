"""Images stored as a caller registers them, and their renditions asked for over HTTP."""

from __future__ import annotations

import io
from typing import Any

import httpx
from PIL import Image, UnidentifiedImageError

from tests.support.entries import image_asset, image_entry, import_entries, new_key
from tests.support.pictures import decode
from tests.support.stack import Stack


def dimensions_of(data: bytes) -> dict[str, int]:
    """An image's stored width and height (what registering it is checked against)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return {"width": image.width, "height": image.height}
    except (UnidentifiedImageError, OSError):  # an SVG, or bytes that are no image
        return {}


async def stored(
    stack: Stack, api: httpx.AsyncClient, data: bytes, mime: str = "image/jpeg", **asset: Any
) -> str:
    """The key of a new entry's image holding `data`."""
    extension = mime.split("/")[1].replace("svg+xml", "svg")
    key = new_key(extension)
    await stack.put_asset(key, data)
    described = image_asset(key, mimeType=mime, size=len(data), filename=f"p.{extension}")
    described |= dimensions_of(data)
    [result] = await import_entries(api, [image_entry(key, asset=described | asset)])
    assert result["ok"], result
    return key


async def rendition(
    stack: Stack, key: str, query: str, accept: str | None = None
) -> httpx.Response:
    headers = {"Accept": accept} if accept else {}
    return await stack.client().get(f"/media/{key}?{query}", headers=headers)


async def picture(stack: Stack, key: str, query: str, accept: str | None = None) -> Image.Image:
    response = await rendition(stack, key, query, accept)
    assert response.status_code == 200, response.text
    return decode(response.content)
