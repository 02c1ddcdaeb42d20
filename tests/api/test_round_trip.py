"""An entry read from the API posts back unchanged to `POST /import/mediaLibrary`, in every API
version, for each media kind: an image, a video with its poster and a file, each imported from a
URL (so the API shows its sha256, and a video its codecs), with translations, one with an asset.

"Posts back" means: into another medialib whose storage holds the same objects (an operator
copied the bucket or the folder), where it becomes the same entry; and into the project it was
read from, where its id is taken, which is a 409 as registering it again is (nothing changes)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from medialib.api.versions import VERSIONS
from tests.support import media, videos
from tests.support.entries import (
    STORED_MP4,
    file_asset,
    image_asset,
    import_entries,
    new_key,
    video_asset,
)
from tests.support.imports import Importer, item
from tests.support.origin import Origin
from tests.support.stack import Stack, stack_config, start_stack

KINDS = {"image": "images", "video": "videos", "file": "files"}
# What a new entry has of its own, and what a registration does not read of a video: the rest
# of an entry read back is what was read from the first medialib.
OWN = ("version", "createdAt", "updatedAt")
NOT_READ = ("videoCodec", "audioCodec")


@pytest.fixture(scope="module")
async def elsewhere(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> AsyncIterator[Stack]:
    """Another medialib on the same backend, with a library of its own."""
    s3 = request.getfixturevalue("s3_server") if backend == "postgres" else None
    home = tmp_path_factory.mktemp(f"elsewhere-{backend}")
    other = await start_stack(backend, home, config=stack_config(), s3=s3)
    yield other
    await other.close()


def _bytes_of(kind: str) -> tuple[str, bytes]:
    if kind == "image":
        return "photo.jpeg", media.jpeg(64, 48)
    if kind == "video":
        return "clip.mp4", videos.video("mp4", audio=True)
    return "report.pdf", b"%PDF-1.4\n" + uuid.uuid4().bytes * 64


def _translated_asset(kind: str, key: str) -> dict[str, Any]:
    if kind == "image":
        return image_asset(key, url=None)
    if kind == "video":
        return video_asset(key, url=None)
    return file_asset(key)


async def _source_entry(
    stack: Stack, importer: Importer, origin: Origin, kind: str
) -> dict[str, Any]:
    """An entry imported from a URL, with a translation's metadata and a translation's asset."""
    name, data = _bytes_of(kind)
    url = origin.file(f"{uuid.uuid4().hex[:10]}/{name}", data)
    status, _ = await importer.run([item(url, f"rt-{uuid.uuid4().hex[:12]}", name)], KINDS[kind])
    [result] = status[KINDS[kind]]
    assert result["state"] == "success", result
    media_id = result.get(kind, result)["mediaId"]
    key = new_key("mp4" if kind == "video" else "jpeg" if kind == "image" else "pdf")
    stored = STORED_MP4 if kind == "video" else media.STORED_JPEG
    await stack.put_asset(key, stored)
    patches = [
        {"operation": "setMetadataProperty", "propertyName": "title", "value": "Grüezi"}
        | {"locale": "de-CH"},
        {"operation": "replaceAsset", "locale": "fr", "value": _translated_asset(kind, key)},
        {"operation": "setMetadataProperty", "propertyName": "title", "value": "Salut"}
        | {"locale": "fr"},
    ]
    patched = await importer.api.patch(
        f"/api/2026-05/mediaLibrary/{media_id}", json={"patches": patches}
    )
    assert patched.status_code == 200, patched.text
    entry = (await importer.api.get(f"/api/2026-05/mediaLibrary/{media_id}")).json()
    assert entry["asset"]["sha256"]
    assert [t["locale"] for t in entry["translations"]] == ["de-CH", "fr"]
    if kind == "video":
        assert entry["asset"]["videoCodec"]
        assert entry["asset"]["poster"]["key"]
    return dict(entry)


def _keys(entry: dict[str, Any]) -> list[str]:
    assets = [entry["asset"]] + [t["asset"] for t in entry["translations"] if "asset" in t]
    return [a["key"] for a in assets] + [a["poster"]["key"] for a in assets if "poster" in a]


def _comparable(entry: dict[str, Any]) -> dict[str, Any]:
    out = {name: value for name, value in entry.items() if name not in OWN}
    out["asset"] = {n: v for n, v in entry["asset"].items() if n not in NOT_READ}
    return out


async def _read(api: httpx.AsyncClient, version: str, entry_id: str) -> dict[str, Any]:
    """The entry as GET /mediaLibrary/{id} shows it, which the list shows too."""
    one = await api.get(f"/api/{version}/mediaLibrary/{entry_id}")
    listed = await api.get(f"/api/{version}/mediaLibrary", params={"ids": entry_id})
    assert one.status_code == listed.status_code == 200, (one.text, listed.text)
    [in_list] = listed.json()[VERSIONS[version].list_key]
    assert in_list == one.json()
    return dict(one.json())


@pytest.mark.parametrize("version", list(VERSIONS))
@pytest.mark.parametrize("kind", list(KINDS))
async def test_an_entry_read_from_the_api_posts_back_unchanged(
    stack: Stack,
    elsewhere: Stack,
    importer: Importer,
    origin: Origin,
    kind: str,
    version: str,
) -> None:
    made = await _source_entry(stack, importer, origin, kind)
    read = await _read(importer.api, version, made["id"])
    for key in _keys(read):  # the operator copies the objects
        served = await stack.client().get(f"/media/{key}")
        assert served.status_code == 200
        await elsewhere.put_asset(key, served.content)
    there = await elsewhere.api()

    [posted] = await import_entries(there, [read], version)
    read_there = await _read(there, version, read["id"])
    [again] = await import_entries(there, [read], version)
    [back_home] = await import_entries(importer.api, [read], version)
    home_after = await _read(importer.api, version, read["id"])

    assert posted["ok"] is True, posted
    assert posted["record"] == read_there
    assert _comparable(read_there) == _comparable(read)
    assert read_there["version"] == 1
    assert read_there["asset"]["sha256"] == read["asset"]["sha256"]  # checked, then kept
    for key in _keys(read):
        assert (await elsewhere.client().get(f"/media/{key}")).status_code == 200
    # Posting it again, there or where it was read, is registering it again: its id is taken.
    for refused in (again, back_home):
        assert refused["ok"] is False
        assert (refused["status"], refused["error"]) == (409, "UniqueIdViolation")
        assert refused["error_details"]["message"] == f"id is not unique: '{read['id']}'"
    assert home_after == read
