"""Assets are facts, not claims (issue 12, item 4): registering an asset reads the stored
object's size and first bytes, and what the entry says must match them."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from tests.support import media
from tests.support.entries import image_asset, image_entry, import_entries, new_key, stored_image
from tests.support.stack import Stack


def errors(result: dict[str, Any]) -> dict[str, str]:
    assert result["ok"] is False, result
    assert result["status"] == 400
    return {e["property"]: e["message"] for e in result["error_details"]["errors"]}


async def test_what_an_entry_says_of_its_object_is_checked(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    jpeg = media.jpeg(320, 200)
    key = new_key()
    await stack.put_asset(key, jpeg)
    honest: dict[str, Any] = {
        "size": len(jpeg),
        "width": 320,
        "height": 200,
        "mimeType": "image/jpeg",
    }

    lies: list[dict[str, Any]] = [
        {"size": 34_910},
        {"mimeType": "image/png"},
        {"width": 640, "height": 427},
        {"size": 34_910, "mimeType": "image/png"},
    ]
    results = await import_entries(
        api, [image_entry(key, asset=image_asset(key, **honest | lie)) for lie in lies]
    )

    assert errors(results[0]) == {
        "asset.size": f"is 34910, but the stored object has {len(jpeg)} bytes"
    }
    assert errors(results[1]) == {
        "asset.mimeType": "is image/png, but the stored bytes are image/jpeg"
    }
    assert errors(results[2]) == {"asset.width": "640x427 is not the stored image's 320x200"}
    assert set(errors(results[3])) == {"asset.size", "asset.mimeType"}
    [ok] = await import_entries(api, [image_entry(key, asset=image_asset(key, **honest))])
    assert ok["ok"], ok


async def test_a_turned_photo_may_give_its_dimensions_either_way(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    exif = Image.Exif()
    exif[0x0112] = 6  # turn a quarter clockwise to show it
    out = io.BytesIO()
    Image.new("RGB", (300, 100), (1, 2, 3)).save(out, "JPEG", exif=exif.tobytes())
    photo = out.getvalue()
    for width, height in ((300, 100), (100, 300)):
        key = new_key()
        await stack.put_asset(key, photo)
        asset = image_asset(key, size=len(photo), width=width, height=height)
        [result] = await import_entries(api, [image_entry(key, asset=asset)])
        assert result["ok"], (width, height, result)


async def test_replace_asset_checks_the_object_too(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)
    key = new_key()
    await stack.put_asset(key, media.png(50, 40))

    response = await api.patch(
        f"/api/2026-05/mediaLibrary/{record['id']}",
        json={
            "version": 1,
            "patches": [{"operation": "replaceAsset", "value": image_asset(key, width=50)}],
        },
    )

    assert response.status_code == 400
    details = response.json()["error_details"]
    assert (
        details["patches.0.value.mimeType"] == "is image/jpeg, but the stored bytes are image/png"
    )
    assert "patches.0.value.size" in details
    assert (await api.get(f"/api/2026-05/mediaLibrary/{record['id']}")).json() == record
