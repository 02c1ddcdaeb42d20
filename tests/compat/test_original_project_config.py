"""A project config written for the original API loads unchanged (tests/support/original_config.py:
the docs' example of every metadata plugin allowed on media types), and its values go through
the real interfaces: a valid value of each type is imported and read back as it was sent, an
invalid one is refused naming its property, and hostile values are 400s, never a 500."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from medialib.library.metadata import DOCUMENT_ONLY_TYPES, PROPERTY_TYPES
from tests.support import media
from tests.support.entries import (
    STORED_MP4,
    image_asset,
    import_entries,
    new_key,
    unique,
    video_asset,
)
from tests.support.imports import Importer, item
from tests.support.origin import Origin
from tests.support.original_config import (
    IMAGE_METADATA,
    INVALID_IMAGE_METADATA,
    INVALID_VIDEO_METADATA,
    ORIGINAL_MEDIA_TYPES,
    VALID_IMAGE_METADATA,
    VALID_VIDEO_METADATA,
    VIDEO_METADATA,
)
from tests.support.referenced import make_referenced_entries
from tests.support.stack import Stack

PROJECT = "original"


@pytest.fixture(autouse=True)
async def _named_entries(stack: Stack) -> None:
    """The entries the valid values name exist in the project."""
    await make_referenced_entries(stack, await stack.api(PROJECT))


# The 28 plugins whose docs page says `support.media: true` (release 2026-07).
MEDIA_PLUGINS = {
    "li-boolean",
    "li-color",
    "li-date",
    "li-datetime",
    "li-datetime-validity",
    "li-document-reference",
    "li-document-references",
    "li-enum",
    "li-external-id",
    "li-google-vision",
    "li-image",
    "li-integer",
    "li-invalid",
    "li-license-profile",
    "li-media-handle",
    "li-media-language",
    "li-metadata-translations",
    "li-named-crops",
    "li-numeric-list",
    "li-poster-image",
    "li-reference",
    "li-reference-list",
    "li-string-list",
    "li-system-datetime",
    "li-system-integer",
    "li-text",
    "li-transcoding-state",
    "li-video-reference",
}


def _entry(media_type: str, key: str, metadata: dict[str, Any]) -> dict[str, Any]:
    asset = video_asset(key) if media_type == "video" else image_asset(key)
    return {
        "systemName": "archive",
        "externalId": unique("ext"),
        "mediaType": media_type,
        "asset": asset,
        "metadata": metadata,
    }


async def _stored(stack: Stack, media_type: str) -> str:
    key = new_key("mp4" if media_type == "video" else "jpeg")
    if media_type == "video":
        await stack.put_asset(key, STORED_MP4)
    else:
        await stack.put_asset(key)
    return key


def test_the_config_covers_every_plugin_the_docs_allow_on_media_types() -> None:
    configured = {p["type"] for p in IMAGE_METADATA + VIDEO_METADATA}

    assert configured == MEDIA_PLUGINS
    assert set(PROPERTY_TYPES) >= MEDIA_PLUGINS
    assert not MEDIA_PLUGINS & DOCUMENT_ONLY_TYPES


async def test_valid_values_of_every_type_import_and_read_back_unchanged(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    entries = [
        _entry("image", await _stored(stack, "image"), VALID_IMAGE_METADATA),
        _entry("video", await _stored(stack, "video"), VALID_VIDEO_METADATA),
    ]

    results = await import_entries(api, entries)

    assert [r["ok"] for r in results] == [True, True], results
    for result, sent in zip(results, (VALID_IMAGE_METADATA, VALID_VIDEO_METADATA), strict=True):
        assert result["record"]["metadata"] == sent
        read = await api.get(f"/api/2026-05/mediaLibrary/{result['id']}")
        assert read.status_code == 200
        assert read.json()["metadata"] == sent


async def test_an_integer_sent_as_a_whole_float_is_stored_as_an_integer(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    key = await _stored(stack, "image")

    whole = await api.post(
        "/api/2026-05/import/mediaLibrary",
        content=json.dumps(
            {"mediaLibraryEntries": [_entry("image", key, VALID_IMAGE_METADATA | {"count": 5})]}
        ).replace('"count": 5', '"count": 5.0'),
        headers={"content-type": "application/json"},
    )
    half = _entry("image", key, VALID_IMAGE_METADATA | {"count": 5.5})
    [fraction] = await import_entries(api, [half])

    [result] = whole.json()["results"]
    assert result["ok"], result
    read = await api.get(f"/api/2026-05/mediaLibrary/{result['id']}")
    assert read.json()["metadata"]["count"] == 5
    assert type(read.json()["metadata"]["count"]) is int  # JSON's 5.0 reads as a float
    patched = await api.patch(
        f"/api/2026-05/mediaLibrary/{result['id']}",
        content='{"patches": [{"operation": "setMetadataProperty", "propertyName": "priority", '
        '"value": 7.0}]}',
        headers={"content-type": "application/json"},
    )
    assert patched.status_code == 200, patched.text
    again = (await api.get(f"/api/2026-05/mediaLibrary/{result['id']}")).json()
    assert again["metadata"]["priority"] == 7
    assert type(again["metadata"]["priority"]) is int
    assert fraction["ok"] is False
    assert fraction["error_details"]["errors"] == [
        {"metadataProperty": "count", "message": "The value of '/count' must be integer"}
    ]


@pytest.mark.parametrize(
    ("media_type", "handle"),
    [("image", h) for h in INVALID_IMAGE_METADATA] + [("video", h) for h in INVALID_VIDEO_METADATA],
)
async def test_an_invalid_value_of_each_type_is_refused_naming_its_property(
    stack: Stack, media_type: str, handle: str
) -> None:
    api = await stack.api(PROJECT)
    valid = VALID_VIDEO_METADATA if media_type == "video" else VALID_IMAGE_METADATA
    invalid = INVALID_VIDEO_METADATA if media_type == "video" else INVALID_IMAGE_METADATA
    value, says = invalid[handle]
    key = new_key()

    [result] = await import_entries(api, [_entry(media_type, key, valid | {handle: value})])

    assert result["ok"] is False
    assert result["status"] == 400
    assert result["error"] == "ValidationError"
    [error] = result["error_details"]["errors"]
    assert error["metadataProperty"] == handle
    assert says in error["message"]


async def test_a_patch_with_an_invalid_value_is_a_400_naming_the_property(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    [stored] = await import_entries(
        api, [_entry("image", await _stored(stack, "image"), VALID_IMAGE_METADATA)]
    )

    for handle, (value, says) in INVALID_IMAGE_METADATA.items():
        if value is None:
            continue  # null removes a property: that `source` is required is said below
        response = await _set(api, stored["id"], handle, value)
        assert response.status_code == 400, (handle, response.text)
        [message] = response.json()["error_details"].values()
        assert message.startswith(f"The value of '/{handle}"), message
        assert says in message
    required = await _set(api, stored["id"], "source", None)
    assert required.status_code == 400
    read = await api.get(f"/api/2026-05/mediaLibrary/{stored['id']}")
    assert read.json()["metadata"] == VALID_IMAGE_METADATA
    assert read.json()["version"] == 1


async def _set(api: httpx.AsyncClient, entry_id: str, handle: str, value: Any) -> httpx.Response:
    return await api.patch(
        f"/api/2026-05/mediaLibrary/{entry_id}",
        json={
            "patches": [
                {"operation": "setMetadataProperty", "propertyName": handle, "value": value}
            ]
        },
    )


async def test_the_project_config_shows_the_media_types_as_configured(stack: Stack) -> None:
    api = await stack.api(PROJECT)

    response = await api.get("/api/2026-05/projectConfig")

    assert response.status_code == 200
    shown = {m["handle"]: m for m in response.json()["mediaTypes"]}
    for configured in ORIGINAL_MEDIA_TYPES:
        media_type = shown[configured["handle"]]
        assert media_type["type"] == configured["type"]
        assert media_type.get("info") == configured.get("info")
        assert media_type.get("asset") == configured.get("asset")
        assert media_type.get("exifExtraction") == configured.get("exifExtraction")
        assert media_type["metadata"] == [{"config": {}} | prop for prop in configured["metadata"]]


# Hostile values: each is refused by every property of the config, on import and on patch.
_DEEP_LIST: Any = []
_DEEP_OBJECT: Any = {}
for _ in range(200):
    _DEEP_LIST = [_DEEP_LIST]
    _DEEP_OBJECT = {"a": _DEEP_OBJECT}
HOSTILE_FOR_EVERY_TYPE: list[Any] = [
    _DEEP_LIST,
    _DEEP_OBJECT,
    {"k" * 100_000: 1},  # a huge key
    [None],
    [[]],
    1e308,
    -(2**63),
    2**64 - 1,
    0.5,
    -1,
]
# Beside those, what each kind of property must refuse in particular.
_HUGE = "x" * 100_000
_CROP = {"name": "desktop", "x": 0, "y": 0, "width": 10, "height": 10}
HOSTILE_FOR: dict[str, list[Any]] = {
    "validDateRange": [{"from": _HUGE}, {"to": 5}, {"from": "2026-01-01T00:00:00Z", "until": 1}],
    "googleVision": [{"labels": [1]}, {"labels": [_DEEP_LIST]}, {"webEntities": {"a": "b"}}],
    "text": [_HUGE, "", True],
    "flag": ["true", 0, "yes"],
    "colour": [_HUGE, "#12345", "#GGGGGG", "8CBA51"],
    "day": [_HUGE, "2026-13-01", "2026-11-23T10:00:00Z"],
    "moment": [_HUGE, "2026-11-23", "2026-11-23T25:00:00Z"],
    "document": [
        {"reference": {"id": 1}},
        {"reference": {"id": "1", "extra": 1}},
        {"$ref": "video", "reference": {"id": "1"}},
        {"reference": {"id": [_DEEP_LIST]}},
    ],
    "documents": [
        {"references": [{"id": "1"}] * 5},
        {"references": "1,2"},
        {"references": [{"id": "1"}, {}]},
    ],
    "choice": [_HUGE, 1, True, ["a"]],
    "externalId": [True, {"id": "x"}],
    "teaserImage": [
        {"crops": [_CROP | {"x": -1}]},
        {"crops": [_CROP | {"width": 0}]},
        {"crops": [_CROP | {"height": 1.5}]},
        {"focalPoint": {"x": 1}},
        {"focalPoint": {"x": -1, "y": 0}},
        {"mediaId": 5},
        {"unknown": 1},
    ],
    "count": [0, 51, "5", True],
    "invalid": ["false", 1],
    "licenseProfile": [{"handle": 1}, {"handle": "a", "more": 1}, "editorial"],
    "myMediaHandle": [True, 1],
    "language": [{"locale": _HUGE}, {"locale": "d"}, {"label": "x"}],
    "translations": [{"locale": "de_CH"}, {"locale": "-de"}],
    "namedCrops": [
        {"crops": [_CROP | {"x": -10}]},
        {"crops": [_CROP | {"y": -(2**63)}]},
        {"crops": [_CROP | {"width": -10}]},
        {"crops": [_CROP, _CROP]},  # the same name twice
        {"crops": [_CROP | {"name": "square"}]},  # not a crop of the config
        {"crops": [_CROP | {"isAutomatic": "yes"}]},
        {"crops": {"desktop": _CROP}},
        {"focalPoint": {"x": 0, "y": 0}},
    ],
    "numbers": [[1, "2"], [1] * 6, [True]],
    "author": [{"reference": "x"}, {"$ref": "document"}],
    "related": [{"references": [{"id": "a"}] * 7}, {"$ref": "document", "references": []}],
    "tags": [["a", _HUGE], "a", [1]],
    "checkedAt": [_HUGE, "2026-11-23"],
    "priority": [0, 51, 2.5, True],
    "posterImage": [
        {"crops": [_CROP | {"x": -1}]},
        {"focalPoint": {"x": 0, "y": 0}},
        {"width": "1280"},
    ],
    "transcoding": [
        {"commands": [{"assetKey": "a", "commandId": "c", "createdAt": "t", "state": "done"}]}
        | {"unknown": 1},
        {
            "commands": [
                {"assetKey": "a", "commandId": "c", "createdAt": "t", "state": "done"}
                | {"progress": 101}
            ]
        },
        {
            "commands": [
                {"assetKey": "a", "commandId": "c", "createdAt": "t", "state": "done"}
                | {"progress": -1}
            ]
        },
        {"transcodings": [{"versions": []}]},
        {"commands": "none"},
    ],
    "clip": [
        {"$ref": "video", "reference": {"id": "v", "posterImageId": 1}},
        {"$ref": "image", "reference": {"id": "v"}},
        {"reference": {"id": "v", "poster": "p"}},
    ],
}
_HANDLES = [("image", h) for h in VALID_IMAGE_METADATA] + [
    ("video", h) for h in VALID_VIDEO_METADATA
]
# Properties without limits take any text (`title`, `caption`, …): the generic hostile values
# are refused by each all the same; these have no particular ones.
HOSTILE_CASES = [(t, h, v) for t, h in _HANDLES for v in HOSTILE_FOR_EVERY_TYPE] + [
    (t, h, v) for t, h in _HANDLES for v in HOSTILE_FOR.get(h, [])
]
# Bodies that are no JSON medialib stores: the whole request is a 400.
HOSTILE_BODIES = [
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"18446744073709551616",  # 2**64
    b"-9223372036854775809",  # -2**63 - 1
    b"1e400",
    b"[" * 300 + b"]" * 300,  # deeper than any database keeps
    b'"\\u0000"',
]


def test_there_are_many_hostile_cases() -> None:
    # Reported with the work: (properties x values) on import and again on patch, and bodies.
    assert len(HOSTILE_CASES) > 400
    assert len(HOSTILE_BODIES) == 8


async def test_hostile_values_are_refused_on_import_never_a_500(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    before = await stack.snapshot(PROJECT)
    refused = 0

    for start in range(0, len(HOSTILE_CASES), 40):
        batch = HOSTILE_CASES[start : start + 40]
        entries = [
            _entry(
                media_type,
                new_key(),
                (VALID_VIDEO_METADATA if media_type == "video" else VALID_IMAGE_METADATA)
                | {handle: value},
            )
            for media_type, handle, value in batch
        ]
        response = await api.post(
            "/api/2026-05/import/mediaLibrary", json={"mediaLibraryEntries": entries}
        )
        assert response.status_code == 200, response.text[:500]
        for (_, handle, value), result in zip(batch, response.json()["results"], strict=True):
            assert result["ok"] is False, (handle, repr(value)[:200])
            assert result["status"] == 400
            assert [e["metadataProperty"] for e in result["error_details"]["errors"]] == [handle]
            refused += 1

    assert refused == len(HOSTILE_CASES)
    assert await stack.snapshot(PROJECT) == before


async def test_hostile_values_are_refused_on_patch_never_a_500(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    images = await import_entries(
        api, [_entry("image", await _stored(stack, "image"), VALID_IMAGE_METADATA)]
    )
    videos = await import_entries(
        api, [_entry("video", await _stored(stack, "video"), VALID_VIDEO_METADATA)]
    )
    ids = {"image": images[0]["id"], "video": videos[0]["id"]}

    for media_type, handle, value in HOSTILE_CASES:
        response = await _set(api, ids[media_type], handle, value)
        assert response.status_code == 400, (handle, repr(value)[:200], response.text[:300])
        [message] = response.json()["error_details"].values()
        assert f"'/{handle}" in message, message

    for media_type, entry_id in ids.items():
        read = await api.get(f"/api/2026-05/mediaLibrary/{entry_id}")
        valid = VALID_VIDEO_METADATA if media_type == "video" else VALID_IMAGE_METADATA
        assert read.json()["metadata"] == valid
        assert read.json()["version"] == 1


@pytest.mark.parametrize("body", HOSTILE_BODIES, ids=lambda b: b[:20].decode())
async def test_values_json_cannot_carry_are_a_400_for_the_whole_body(
    stack: Stack, body: bytes
) -> None:
    api = await stack.api(PROJECT)
    entry = json.dumps(
        {"mediaLibraryEntries": [_entry("image", new_key(), VALID_IMAGE_METADATA | {"count": 0})]}
    ).encode()
    patch = (
        b'{"patches": [{"operation": "setMetadataProperty", "propertyName": "count", "value": 0}]}'
    )
    headers = {"content-type": "application/json"}

    imported = await api.post(
        "/api/2026-05/import/mediaLibrary",
        content=entry.replace(b'"count": 0', b'"count": ' + body),
        headers=headers,
    )
    patched = await api.patch(
        "/api/2026-05/mediaLibrary/nothing-here",
        content=patch.replace(b'"value": 0', b'"value": ' + body),
        headers=headers,
    )

    assert imported.status_code == 400, imported.text[:300]
    assert patched.status_code == 400, patched.text[:300]


async def test_a_url_import_fills_properties_from_the_files_iptc_by_the_originals_names(
    stack: Stack, origin: Origin
) -> None:
    """Media type `photo` maps `Title`, `Credit Line`, `By-line`, `Keywords`, `Job Id` and
    `Date Created`: XMP where the file has it, IIM where it has only that."""
    importer = await Importer.open(stack, PROJECT)
    tagged = media.with_iim(
        media.jpeg_with_xmp(),
        {5: b"IIM title", 80: b"Jane Doe", 103: b"job-42", 55: b"20240102"},
    )
    url = origin.file(f"{unique('iptc')}/tagged.jpg", tagged)

    status, _ = await importer.run([item(url, unique("iptc"), mediaType="photo")])

    [result] = status["images"]
    assert result["state"] == "success", result
    entry = await importer.api.get(f"/api/2026-05/mediaLibrary/{result['image']['mediaId']}")
    assert entry.json()["metadata"] == {
        "title": "Harbour at dawn",
        "credit": "Agency X",
        "creator": "Jane Doe",
        "keywords": ["harbour", "dawn"],
        "job": "job-42",
        "shotOn": "2024-01-02",
    }
