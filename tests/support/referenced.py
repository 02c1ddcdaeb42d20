"""The entries that the original config's valid values name (tests/support/original_config.py:
`teaserImage.mediaId`, `posterImage.mediaId`, `clip.reference`), made in a project configured
with ORIGINAL_MEDIA_TYPES: references must name entries of the project."""

from __future__ import annotations

import httpx

from tests.support import media
from tests.support.entries import STORED_MP4, image_asset, new_key, video_asset
from tests.support.original_config import NAMED_IMAGES, NAMED_VIDEO, VALID_VIDEO_METADATA
from tests.support.stack import Stack


async def make_referenced_entries(stack: Stack, api: httpx.AsyncClient) -> None:
    """The images and the video the valid values name, under their ids, unless they are there
    (the video names itself and the images: one request makes them all)."""
    ids = ",".join([*NAMED_IMAGES, NAMED_VIDEO])
    found = await api.get("/api/2026-05/mediaLibrary", params={"ids": ids})
    assert found.status_code == 200, found.text
    if len(found.json()["results"]) == len(NAMED_IMAGES) + 1:
        return
    entries = []
    for image_id in NAMED_IMAGES:
        key = new_key()
        await stack.put_asset(key, media.STORED_JPEG)
        entries.append(
            {
                "id": image_id,
                "mediaType": "photo",
                "asset": image_asset(key),
                "metadata": {"title": "Named"},
            }
        )
    key = new_key("mp4")
    await stack.put_asset(key, STORED_MP4)
    entries.append(
        {
            "id": NAMED_VIDEO,
            "mediaType": "video",
            "asset": video_asset(key),
            "metadata": VALID_VIDEO_METADATA,
        }
    )
    response = await api.post(
        "/api/2026-05/import/mediaLibrary", json={"mediaLibraryEntries": entries}
    )
    assert response.status_code == 200, response.text
    for result in response.json()["results"]:
        assert result["ok"] or result["status"] == 409, result
