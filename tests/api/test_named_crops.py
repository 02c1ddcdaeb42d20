"""Named crops lie within their image (issue 28, item 2): an `li-named-crops` value whose crop (or
focal point) reaches beyond the entry's asset is refused, in the metadata error shape, wherever
metadata meets an asset (the synchronous import, a PATCH, a URL import once the download is
probed); an `li-image` value's crops lie within the width and height it gives. Crops are read
back as they were sent. Project `config-keys` (tests/support/stack.py): images of 640x480."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest

from medialib.library.repository import entry_row
from tests.support import media
from tests.support.entries import image_asset, import_entries, insert_rows, new_key, unique
from tests.support.imports import Importer, item
from tests.support.origin import Origin
from tests.support.stack import Stack

PROJECT = "config-keys"
V = "2026-05"
OUTSIDE = "must lie within the image (640x480 pixels)"


def crop(name: str = "wide", **sides: Any) -> dict[str, Any]:
    return {"name": name, "x": 0, "y": 0, "width": 640, "height": 360} | sides


def picture(key: str, crops: Any, **metadata: Any) -> dict[str, Any]:
    return {
        "systemName": "archive",
        "externalId": unique("crops"),
        "mediaType": "image",
        "asset": image_asset(key),
        "metadata": {"title": "Harbour", "crops": crops} | metadata,
    }


async def _imported(
    stack: Stack, api: httpx.AsyncClient, crops: Any, version: str = V, **metadata: Any
) -> dict[str, Any]:
    key = new_key()
    await stack.put_asset(key)
    [result] = await import_entries(api, [picture(key, crops, **metadata)], version)
    return result


async def test_crops_within_the_image_are_stored_and_read_back_as_sent(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    crops = {
        "crops": [
            crop("wide", x=0, y=60, width=640, height=360, isAutomatic=True),
            crop("edge", x=639, y=479, width=1, height=1, isAutomatic=False),
            crop("whole", width=640, height=480),
        ],
        "focalPoint": {"x": 640, "y": 480},  # on the edge
    }
    result = await _imported(stack, api, crops)
    assert result["ok"], result
    read = (await api.get(f"/api/{V}/mediaLibrary/{result['id']}")).json()
    assert read["metadata"]["crops"] == crops


@pytest.mark.parametrize(
    ("crops", "at"),
    [
        ({"crops": [crop(x=1)]}, "/crops/crops/0"),  # one pixel too far right
        ({"crops": [crop(), crop("tall", y=121)]}, "/crops/crops/1"),  # 121 + 360 > 480
        ({"crops": [crop(width=641)]}, "/crops/crops/0"),
        ({"crops": [crop(x=10**15)]}, "/crops/crops/0"),  # huge, within 64 bits
        ({"crops": [crop()], "focalPoint": {"x": 641, "y": 0}}, "/crops/focalPoint"),
        ({"crops": [], "focalPoint": {"x": 0, "y": 481}}, "/crops/focalPoint"),
    ],
)
async def test_a_crop_outside_the_image_is_refused(
    stack: Stack, crops: dict[str, Any], at: str
) -> None:
    api = await stack.api(PROJECT)
    before = await stack.snapshot(PROJECT)
    result = await _imported(stack, api, crops)
    assert result == {
        "ok": False,
        "correlation": result["correlation"],
        "status": 400,
        "error": "ValidationError",
        "error_details": {
            "message": "Metadata validation failed.",
            "errors": [{"metadataProperty": "crops", "message": f"The value of '{at}' {OUTSIDE}"}],
        },
    }
    assert await stack.snapshot(PROJECT) == before


async def test_v1_says_it_in_its_own_words(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    result = await _imported(stack, api, {"crops": [crop(height=481)]}, version="v1")
    assert result["error"] == "MetadataValidationErrors"
    assert result["error_details"]["invalidMetadata"] == [
        {
            "metadataProperty": "crops",
            "message": "The value of '/crops/crops/0' should lie within the image (640x480 pixels)",
        }
    ]


@pytest.mark.parametrize(
    ("side", "says"),
    [
        ({"x": -1}, "The value of '/crops/crops/0/x' must be >= 0"),
        ({"width": 0}, "The value of '/crops/crops/0/width' must be >= 1"),
        ({"height": -5}, "The value of '/crops/crops/0/height' must be >= 1"),
        ({"x": 1.5}, "The value of '/crops/crops/0/x' must be integer"),
        ({"y": "0"}, "The value of '/crops/crops/0/y' must be integer"),
        ({"width": True}, "The value of '/crops/crops/0/width' must be integer"),
        ({"x": 2e19}, "The value of '/crops/crops/0/x' must be within 64 bits"),
    ],
)
async def test_a_crop_that_is_no_rectangle_of_pixels_is_refused(
    stack: Stack, side: dict[str, Any], says: str
) -> None:
    api = await stack.api(PROJECT)
    result = await _imported(stack, api, {"crops": [crop(**side)]})
    assert result["status"] == 400, result
    assert result["error_details"]["errors"] == [{"metadataProperty": "crops", "message": says}]


async def test_whole_numbers_written_as_floats_are_integers(stack: Stack) -> None:
    """`5.0` is `5` to the original (JavaScript): taken, and stored as `5`."""
    api = await stack.api(PROJECT)
    sent = {"crops": [crop(x=0.0, width=640.0)], "focalPoint": {"x": 10.0, "y": 20}}
    teaser = {
        "width": 100.0,
        "height": 50,
        "crops": [{"x": 0, "y": 0, "width": 100.0, "height": 1}],
    }
    result = await _imported(stack, api, sent, teaser=teaser)
    assert result["ok"], result
    read = (await api.get(f"/api/{V}/mediaLibrary/{result['id']}")).json()["metadata"]
    assert read["crops"] == {"crops": [crop()], "focalPoint": {"x": 10, "y": 20}}
    stored = read["crops"]["crops"][0]
    assert [type(stored[side]) for side in ("x", "y", "width", "height")] == [int] * 4
    assert read["teaser"] == {
        "width": 100,
        "height": 50,
        "crops": [{"x": 0, "y": 0, "width": 100, "height": 1}],
    }
    assert type(read["teaser"]["width"]) is int


async def test_an_li_image_crop_lies_within_the_width_and_height_it_gives(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    # li-image names an image of the project (tests/api/test_media_references.py)
    named = (await _imported(stack, api, {"crops": []}))["id"]
    inside = {
        "mediaId": named,
        "width": 100,
        "height": 50,
        "crops": [{"x": 50, "y": 0, "width": 50, "height": 50}],
    }
    no_size = {"mediaId": named, "crops": [{"x": 5000, "y": 0, "width": 50, "height": 50}]}
    for teaser in (inside, no_size):
        result = await _imported(stack, api, {"crops": []}, teaser=teaser)
        assert result["ok"], result
    for teaser, at in (
        (inside | {"crops": [{"x": 51, "y": 0, "width": 50, "height": 50}]}, "/teaser/crops/0"),
        (inside | {"focalPoint": {"x": 0, "y": 51}}, "/teaser/focalPoint"),
    ):
        result = await _imported(stack, api, {"crops": []}, teaser=teaser)
        assert result["error_details"]["errors"] == [
            {
                "metadataProperty": "teaser",
                "message": f"The value of '{at}' must lie within the image (100x50 pixels)",
            }
        ], result


async def test_a_translations_crops_lie_within_the_entrys_image(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    key = new_key()
    await stack.put_asset(key)
    entry = picture(key, {"crops": [crop()]})
    entry["translations"] = [{"locale": "de", "metadata": {"crops": {"crops": [crop(y=200)]}}}]
    [result] = await import_entries(api, [entry])
    assert result["error_details"]["errors"] == [
        {
            "metadataProperty": "crops",
            "locale": "de",
            "message": f"The value of '/crops/crops/0' {OUTSIDE}",
        }
    ]


async def _patch(api: httpx.AsyncClient, entry_id: str, *patches: Any) -> httpx.Response:
    return await api.patch(f"/api/{V}/mediaLibrary/{entry_id}", json={"patches": list(patches)})


def _set(value: Any, locale: str | None = None) -> dict[str, Any]:
    patch = {"operation": "setMetadataProperty", "propertyName": "crops", "value": value}
    return patch | ({"locale": locale} if locale else {})


async def test_a_patch_that_sets_crops_outside_the_image_is_refused(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    result = await _imported(stack, api, {"crops": [crop()]})
    entry_id = result["id"]
    before = await stack.snapshot(PROJECT)

    title = {"operation": "setMetadataProperty", "propertyName": "title", "value": "New"}
    response = await _patch(api, entry_id, title, _set({"crops": [crop(y=121)]}))

    assert response.status_code == 400, response.text
    assert response.json() == {
        "status": 400,
        "error": "Bad Request",
        "error_details": {"patches.1.value": f"The value of '/crops/crops/0' {OUTSIDE}"},
    }
    assert await stack.snapshot(PROJECT) == before
    response = await _patch(api, entry_id, _set({"crops": [crop()]}, "de"), _set(None))
    assert response.status_code == 200, response.text  # a translation's, on the entry's image
    response = await _patch(api, entry_id, _set({"crops": [crop(x=1)]}, "de"))
    assert response.json()["error_details"] == {
        "patches.0.value": f"The value of '/crops/crops/0' {OUTSIDE}"
    }


async def test_a_smaller_image_under_stored_crops_is_refused(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    result = await _imported(stack, api, {"crops": [crop()]})
    entry_id = result["id"]
    small = media.jpeg(320, 240)
    key = new_key()
    await stack.put_asset(key, small)
    replace = {
        "operation": "replaceAsset",
        "value": image_asset(key, width=320, height=240, size=len(small)),
    }

    response = await _patch(api, entry_id, replace)
    assert response.status_code == 400, response.text
    says = "The value of '/crops/crops/0' must lie within the image (320x240 pixels)"
    assert response.json()["error_details"] == {"patches.0.value": says}
    # With crops that fit the new image in the same request, it is taken.
    fitting = {"crops": [crop(width=320, height=180)]}
    response = await _patch(api, entry_id, replace, _set(fitting))
    assert response.status_code == 200, response.text
    read = (await api.get(f"/api/{V}/mediaLibrary/{entry_id}")).json()
    assert read["metadata"]["crops"] == fitting
    assert read["asset"]["width"] == 320


async def test_a_url_import_checks_crops_once_the_image_is_probed(
    stack: Stack, origin: Origin
) -> None:
    importer = await Importer.open(stack, PROJECT)
    try:
        name = uuid.uuid4().hex
        small = origin.file(f"/crops/{name}-small.jpg", media.jpeg(64, 48))
        large = origin.file(f"/crops/{name}-large.jpg", media.jpeg(640, 480))
        crops = {"crops": [crop(width=100, height=48)]}
        status, delivery = await importer.run(
            [
                item(small, f"{name}-s", metadata={"title": "Small", "crops": crops}),
                item(large, f"{name}-l", metadata={"title": "Large", "crops": crops}),
            ]
        )
    finally:
        await importer.close()
    failed, made = status["images"]
    assert failed["state"] == "failed"
    assert failed["reasonCode"] == "invalid_metadata"
    assert failed["reason"] == (
        "The value of '/crops/crops/0' must lie within the image (64x48 pixels)"
    )
    assert made["state"] == "success", made
    assert delivery.body["overview"]["details"]["failed"] == 1
    entry = await importer.api.get(f"/api/{V}/mediaLibrary/{made['image']['mediaId']}")
    assert entry.json()["metadata"]["crops"] == crops


async def test_crops_stored_before_the_rule_are_left_to_be_mended(stack: Stack) -> None:
    """An entry written before crops were checked (here: straight into the database) may hold
    crops beyond its image: a PATCH that leaves them alone is taken, one that sets them again
    must make them fit."""
    key = new_key()
    await stack.put_asset(key)
    row = entry_row(
        project=PROJECT,
        media_type="image",
        asset=image_asset(key),
        metadata={"title": "Old", "crops": {"crops": [crop(x=100)]}},
        now=dt.datetime.now(dt.UTC),
    )
    await insert_rows(stack, [row])
    api = await stack.api(PROJECT)
    title = {"operation": "setMetadataProperty", "propertyName": "title", "value": "New"}

    assert (await _patch(api, row["id"], title, {"operation": "archive"})).status_code == 200
    refused = await _patch(api, row["id"], _set({"crops": [crop(x=50)]}))
    assert refused.json()["error_details"] == {
        "patches.0.value": f"The value of '/crops/crops/0' {OUTSIDE}"
    }
    assert (await _patch(api, row["id"], _set({"crops": [crop()]}))).status_code == 200
