"""POST /import/videos and its status (livingdocsIO/documentation import-videos.yaml and
import-videos-status.yaml): real videos made by PyAV, served by the origin, probed and given a
poster frame; hostile ones fail their item with a reason code."""

from __future__ import annotations

import io
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.support import media, videos
from tests.support.imports import Importer, item
from tests.support.origin import Origin
from tests.support.stack import Stack


def path(name: str) -> str:
    return f"{uuid.uuid4().hex[:10]}/{name}"


def new_id() -> str:
    return f"v-{uuid.uuid4().hex[:12]}"


async def fetch(stack: Stack, url: str) -> bytes:
    served = await stack.client().get(url.removeprefix("http://media.test"))
    assert served.status_code == 200, served.text
    return served.content


def near(colour: Any, expected: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 24 for a, b in zip(colour, expected, strict=False))


async def test_a_video_in_each_container_is_probed_and_gets_its_poster(
    importer: Importer, origin: Origin, stack: Stack
) -> None:
    containers = list(videos.CONTAINERS)
    urls = {c: origin.file(path(f"clip.{c}"), videos.video(c)) for c in containers}
    items = [item(urls[c], f"clip-{c}", f"Clip {c}") for c in containers]

    status, delivery = await importer.run(items, kind="videos")

    assert status["state"] == "success"
    assert delivery.body["source"] == "livingdocs-video-import"
    for container, result in zip(containers, status["videos"], strict=True):
        assert result["state"] == result["status"] == "success", result
        assert result["action"] == "created"
        assert result["externalId"] == f"clip-{container}"
        video = result["video"]
        assert video["mimeType"] == videos.MIME[container]
        assert (video["width"], video["height"], video["duration"]) == (64, 48, 2.0)
        assert video["url"] == video["originalUrl"]
        assert await fetch(stack, video["url"]) == videos.video(container)
        poster = video["poster"]
        assert (poster["width"], poster["height"]) == (64, 48)
        picture = Image.open(io.BytesIO(await fetch(stack, poster["url"])))
        assert picture.format == "JPEG"
        # the frame one second in, not the first one
        assert near(picture.getpixel((48, 36)), videos.colour_at(1.0)), container


async def test_the_entry_holds_what_probing_found(
    importer: Importer, origin: Origin, stack: Stack
) -> None:
    url = origin.file(path("talk.mp4"), videos.video("mp4", audio=True))

    status, _ = await importer.run([item(url, new_id(), "Talk")], kind="videos")

    media_id = status["videos"][0]["video"]["mediaId"]
    entry = (await importer.api.get(f"/api/2026-05/mediaLibrary/{media_id}")).json()
    asset = entry["asset"]
    assert entry["mediaType"] == "video"
    assert asset["filename"] == "Talk.mp4"
    assert asset["mimeType"] == "video/mp4"
    assert (asset["width"], asset["height"]) == (64, 48)
    assert asset["duration"] == pytest.approx(2.0, abs=0.1)
    assert (asset["videoCodec"], asset["audioCodec"]) == ("h264", "aac")
    assert asset["size"] == len(videos.video("mp4", audio=True))
    poster = asset["poster"]
    assert poster["mimeType"] == "image/jpeg"
    assert poster["url"] == f"http://media.test/media/{poster['key']}?auto=format"
    assert Image.open(io.BytesIO(await fetch(stack, poster["url"]))).size == (64, 48)


async def test_rotation_and_pixel_aspect_give_the_displayed_size(
    importer: Importer, origin: Origin, stack: Stack
) -> None:
    portrait = origin.file(path("phone.mp4"), videos.video("mp4", rotation=-90))
    wide = origin.file(path("anamorphic.mkv"), videos.video("mkv", pixel_aspect=(2, 1)))

    status, _ = await importer.run([item(portrait, new_id()), item(wide, new_id())], kind="videos")

    turned, stretched = (result["video"] for result in status["videos"])
    assert (turned["width"], turned["height"]) == (48, 64)
    assert (stretched["width"], stretched["height"]) == (128, 48)
    poster = Image.open(io.BytesIO(await fetch(stack, turned["poster"]["url"])))
    assert poster.size == (48, 64)
    # a quarter turn clockwise, as a player shows it: the mark top left is now top right
    assert near(poster.getpixel((44, 4)), (255, 255, 255))
    assert not near(poster.getpixel((4, 4)), (255, 255, 255))


async def test_a_video_without_pictures_imports_without_a_poster_and_says_why(
    importer: Importer, origin: Origin
) -> None:
    sound = origin.file(path("podcast.mp4"), videos.audio_only())

    status, _ = await importer.run([item(sound, new_id())], kind="videos")

    result = status["videos"][0]
    assert result["state"] == "success"
    assert result["reasonCode"] == "no_poster"
    assert "no video stream" in result["reason"]
    assert result["video"]["poster"] is None
    assert result["video"]["duration"] == pytest.approx(1.0, abs=0.1)


HOSTILE: dict[str, tuple[Callable[[], bytes], str]] = {
    "html.mp4": (lambda: media.HTML, "unsupported_type"),
    "photo.mp4": (lambda: media.jpeg(), "unsupported_type"),
    "cut.mp4": (
        lambda: videos.cut(videos.video("mp4", seconds=3, faststart=True)),
        "truncated_video",
    ),
    "cut.webm": (lambda: videos.cut(videos.video("webm", seconds=3)), "truncated_video"),
    "cut.avi": (lambda: videos.cut(videos.video("avi", seconds=3), 0.9), "truncated_video"),
    "moov-lost.mp4": (lambda: videos.cut(videos.video("mp4", seconds=3)), "invalid_video"),
    "giant.avi": (lambda: videos.declaring_size(100_000, 100_000), "invalid_video"),
    "huge.avi": (lambda: videos.declaring_size(12_000, 12_000), "too_many_pixels"),
    "eternal.mkv": (lambda: videos.declaring_duration(10**7), "too_long"),
    "tracks.mkv": (lambda: videos.with_streams(600), "too_many_streams"),
    "noise.mp4": (lambda: videos.video("mp4")[:40] + bytes(range(256)) * 64, "invalid_video"),
}


async def test_hostile_videos_fail_their_item_and_nothing_else(
    importer: Importer, origin: Origin
) -> None:
    names = list(HOSTILE)
    items = [item(origin.file(path(name), make()), name) for name, (make, _) in HOSTILE.items()]
    good = origin.file(path("good.webm"), videos.video("webm"))

    status, _ = await importer.run([*items, item(good, "good")], kind="videos")

    *hostile, ok = status["videos"]
    codes = {name: result.get("reasonCode") for name, result in zip(names, hostile, strict=True)}
    assert codes == {name: code for name, (_, code) in HOSTILE.items()}
    for result in hostile:
        assert result["state"] == "failed"
        assert result["reason"]
        assert "video" not in result
    assert ok["state"] == "success"
    assert status["state"] == "success"  # the job ran to its end


async def test_a_prober_that_takes_too_long_is_stopped(
    make_stack: Callable[..., Awaitable[Stack]], origin: Origin
) -> None:
    stack = await make_stack(video_probe_timeout=0.005)
    importer = await Importer.open(stack, "demo")
    # 900 tracks take FFmpeg about 0.05 s to read here: ten times the time allowed
    url = origin.file(path("slow.mkv"), videos.with_streams(900))

    status, _ = await importer.run([item(url, "slow")], kind="videos")

    result = status["videos"][0]
    assert result["reasonCode"] == "probe_timeout"
    assert "longer than 0.005s" in result["reason"]
    assert leftovers(stack) == []  # neither the download nor a part of a poster
    await importer.close()


def leftovers(stack: Stack) -> list[Path]:
    folder = stack.settings.temp_dir
    return list(folder.iterdir()) if folder.exists() else []


async def test_videos_are_capped_by_size_and_by_the_media_types_rules(
    make_stack: Callable[..., Awaitable[Stack]], origin: Origin
) -> None:
    stack = await make_stack(video_max_bytes=20_000)
    importer = await Importer.open(stack, "typed")
    big = videos.video("avi", width=320, height=240, seconds=4)
    over_type = videos.video("mp4", codec="mpeg4", width=320, height=240, seconds=2)
    assert len(big) > 20_000
    assert 10_000 < len(over_type) < 20_000

    demo = await Importer.open(stack, "demo")
    capped, _ = await demo.run([item(origin.file(path("big.avi"), big), "big")], kind="videos")
    status, _ = await importer.run(
        [
            item(origin.file(path("over.mp4"), over_type), "over", mediaType="clip"),
            item(origin.file(path("clip.mkv"), videos.video("mkv")), "mkv", mediaType="clip"),
            item(
                origin.file(path("clip.mp4"), videos.video("mp4")),
                "mp4",
                mediaType="clip",
                metadata={"title": "A clip"},
            ),
        ],
        kind="videos",
    )

    too_big = capped["videos"][0]
    over_its_type, wrong_type, ok = status["videos"]
    assert too_big["reasonCode"] == over_its_type["reasonCode"] == "too_large"
    assert "more than 20000" in too_big["reason"]
    assert "more than 10000" in over_its_type["reason"]
    assert wrong_type["reasonCode"] == "unsupported_type"
    assert "takes video/mp4, video/webm" in wrong_type["reason"]
    assert ok["state"] == "success"
    assert leftovers(stack) == []
    await importer.close()
    await demo.close()


async def test_a_video_import_is_an_upsert(importer: Importer, origin: Origin) -> None:
    external_id = new_id()
    first = origin.file(path("one.mp4"), videos.video("mp4"))
    second = origin.file(path("two.webm"), videos.video("webm", seconds=3))

    created, _ = await importer.run([item(first, external_id)], kind="videos")
    again, _ = await importer.run([item(first, external_id)], kind="videos")
    updated, _ = await importer.run([item(second, external_id)], kind="videos")

    assert created["videos"][0]["action"] == "created"
    assert again["videos"][0]["state"] == "skipped"
    assert again["videos"][0]["reason"] == "already exists"
    assert again["videos"][0]["video"] == created["videos"][0]["video"]
    changed = updated["videos"][0]
    assert changed["action"] == "updated"
    assert changed["video"]["mediaId"] == created["videos"][0]["video"]["mediaId"]
    assert changed["video"]["duration"] == 3.0
    assert changed["video"]["poster"]["key"] != created["videos"][0]["video"]["poster"]["key"]


async def test_a_video_request_is_checked_before_anything_is_fetched(
    importer: Importer, origin: Origin
) -> None:
    where = path("clip.mp4")
    clip = origin.file(where, videos.video("mp4"))
    body = {"systemName": "archive", "videos": [item(clip, new_id(), mediaType="image")]}

    wrong_type = await importer.api.post("/api/2026-05/import/videos", json=body)
    no_list = await importer.api.post("/api/2026-05/import/videos", json={"systemName": "a"})

    assert wrong_type.status_code == 400
    problem = wrong_type.json()["error_details"]["videos.0.mediaType"]
    assert "is a mediaImage, not a mediaVideo" in problem
    assert no_list.status_code == 400
    assert "videos" in no_list.json()["error_details"]
    assert origin.hits[where] == 0
