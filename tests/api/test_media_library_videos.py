"""Video entries through the synchronous import (seed 003) and replaceAsset: a video asset, and
the poster frame stored beside it, which is served and revoked with its entry."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support import videos
from tests.support.entries import (
    STORED_MP4,
    image_entry,
    import_entries,
    new_key,
    unique,
    video_asset,
)
from tests.support.stack import Stack


def video_entry(asset: dict[str, Any]) -> dict[str, Any]:
    return {
        "systemName": "archive",
        "externalId": unique("clip"),
        "mediaType": "video",
        "asset": asset,
        "metadata": {"title": "This is a fire"},
    }


async def stored_video(stack: Stack, api: httpx.AsyncClient) -> tuple[dict[str, Any], str, str]:
    key, poster = new_key("mp4"), new_key("jpeg")
    await stack.put_asset(key, STORED_MP4)
    await stack.put_asset(poster)
    [result] = await import_entries(api, [video_entry(video_asset(key, poster))])
    assert result["ok"], result
    return result["record"], key, poster


async def patch(api: httpx.AsyncClient, entry_id: str, *patches: Any) -> httpx.Response:
    return await api.patch(f"/api/2026-05/mediaLibrary/{entry_id}", json={"patches": patches})


async def test_a_video_entry_with_its_poster_is_imported_and_served(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)

    record, key, poster_key = await stored_video(stack, api)

    asset = record["asset"]
    assert asset["duration"] == 35.241667
    assert asset["poster"] == {
        "key": poster_key,
        "url": f"http://media.test/media/{poster_key}?auto=format",  # a rendition
        "originalUrl": f"http://media.test/media/{poster_key}",
        "width": 640,
        "height": 480,
        "mimeType": "image/jpeg",
    }
    served = await stack.client().get(f"/media/{poster_key}")
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert (await stack.client().get(f"/media/{key}")).content == STORED_MP4


async def test_revoking_a_video_hides_its_poster_too(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    record, key, poster_key = await stored_video(stack, api)

    revoked = await patch(api, record["id"], {"operation": "revokeAsset", "note": "rights"})
    hidden = [(await stack.client().get(f"/media/{k}")).status_code for k in (key, poster_key)]
    await patch(api, record["id"], {"operation": "unrevokeAsset"})
    shown = [(await stack.client().get(f"/media/{k}")).status_code for k in (key, poster_key)]

    assert revoked.status_code == 200
    assert hidden == [403, 403]
    assert shown == [200, 200]


async def test_a_poster_must_be_stored_and_belongs_to_videos_only(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    key, missing_poster = new_key("mp4"), new_key("jpeg")
    await stack.put_asset(key)
    picture = new_key()
    await stack.put_asset(picture)
    on_image = image_entry(picture)
    on_image["asset"]["poster"] = {"key": key, "width": 10, "height": 10}

    without_object, on_an_image = await import_entries(
        api, [video_entry(video_asset(key, missing_poster)), on_image]
    )

    assert without_object["ok"] is False
    assert f"no stored object at '{missing_poster}'" in without_object["error_details"]["message"]
    assert on_an_image["ok"] is False
    assert "asset.poster" in str(on_an_image["error_details"])


async def test_replace_asset_on_a_video_takes_a_video_asset(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    record, _, _ = await stored_video(stack, api)
    key, poster_key = new_key("webm"), new_key("jpeg")
    webm = videos.video("webm", seconds=1.0)
    await stack.put_asset(key, webm)
    await stack.put_asset(poster_key)
    replacement = video_asset(key, poster_key, mimeType="video/webm", duration=12.5, size=len(webm))

    not_a_video = await patch(
        api,
        record["id"],
        {"operation": "replaceAsset", "value": video_asset(key, duration=None, size=len(webm))},
    )
    no_poster_object = await patch(
        api,
        record["id"],
        {
            "operation": "replaceAsset",
            "value": video_asset(key, new_key("jpeg"), size=len(webm)),
        },
    )
    replaced = await patch(api, record["id"], {"operation": "replaceAsset", "value": replacement})

    assert not_a_video.status_code == 400
    assert not_a_video.json()["error_details"] == {"patches.0.value.duration": "Field required"}
    assert no_poster_object.status_code == 400
    assert "patches.0.value.poster.key" in no_poster_object.json()["error_details"]
    assert replaced.status_code == 200, replaced.text
    entry = (await api.get(f"/api/2026-05/mediaLibrary/{record['id']}")).json()
    assert entry["asset"]["key"] == key
    assert entry["asset"]["duration"] == 12.5
    assert entry["asset"]["poster"]["key"] == poster_key
    assert (await stack.client().get(f"/media/{poster_key}")).status_code == 200
