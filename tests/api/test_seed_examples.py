"""Every example request and response of the seed documents 003 and 004, as written there."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.support.entries import faithful_bytes
from tests.support.stack import Stack

SEED_003_REQUEST: dict[str, Any] = {
    "mediaLibraryEntries": [
        {
            "id": "custom-1",
            "systemName": "externalSystem",
            "externalId": "6hedie82",
            "mediaType": "image",
            "asset": {
                "key": "2022/08/25/d6068c02-ca85-421d-948d-ee0e2c15f372.jpeg",
                "url": "https://livingdocs-images-development.s3.amazonaws.com/2022/08/25/d6068c02-ca85-421d-948d-ee0e2c15f372.jpeg",
                "size": 34910,
                "width": 640,
                "height": 427,
                "filename": "super-mario.jpeg",
                "mimeType": "image/jpeg",
            },
            "metadata": {"title": "An image title"},
            "translations": [
                {
                    "locale": "fr",
                    "metadata": {"title": "Un titre d'image"},
                    "asset": {
                        "key": "2022/08/25/another-asset.jpeg",
                        "url": "https://livingdocs-images-development.s3.amazonaws.com/2022/08/25/another-asset.jpeg",
                        "size": 34910,
                        "width": 640,
                        "height": 427,
                        "filename": "super-mario-modified.jpeg",
                        "mimeType": "image/jpeg",
                    },
                }
            ],
        },
        {
            "id": "custom-2",
            "systemName": "externalSystem",
            "externalId": "ahedie8x",
            "mediaType": "file",
            "asset": {
                "key": "2022/09/30/a1cb173d-e85f-498b-996e-5ce46058e9b9.pdf",
                "url": "https://livingdocs-files-development.s3.amazonaws.com/2022/09/30/a1cb173d-e85f-498b-996e-5ce46058e9b9.pdf",
                "size": 3028,
                "filename": "a-simple-pdf.pdf",
                "mimeType": "application/pdf",
            },
            "metadata": {"title": "A simple PDF"},
            "translations": [
                {
                    "locale": "fr",
                    "metadata": {"title": "Un simple PDF"},
                    "asset": {
                        "key": "2022/09/30/another-asset.pdf",
                        "url": "https://livingdocs-files-development.s3.amazonaws.com/2022/09/30/another-asset.pdf",
                        "size": 3028,
                        "filename": "a-simple-pdf-fr.pdf",
                        "mimeType": "application/pdf",
                    },
                }
            ],
        },
        {
            "id": "custom-3",
            "systemName": "externalSystem",
            "externalId": "srfhediess",
            "mediaType": "video",
            "asset": {
                "key": "2022/09/30/2804fc3d-098d-4f8f-b25c-c6c15583d672.mp4",
                "url": "https://livingdocs-videos-development.s3.amazonaws.com/2022/09/30/2804fc3d-098d-4f8f-b25c-c6c15583d672.mp4",
                "size": 8633462,
                "width": 1280,
                "height": 720,
                "duration": 35.241667,
                "filename": "fire.mp4",
                "mimeType": "video/mp4",
            },
            "metadata": {"title": "This is a fire"},
            "translations": [
                {
                    "locale": "fr",
                    "metadata": {"title": "C'est un feu"},
                    "asset": {
                        "key": "2022/09/30/another-asset.mp4",
                        "url": "https://livingdocs-videos-development.s3.amazonaws.com/2022/09/30/another-asset.mp4",
                        "size": 8633462,
                        "width": 1280,
                        "height": 720,
                        "duration": 35.241667,
                        "filename": "fire-fr.mp4",
                        "mimeType": "video/mp4",
                    },
                }
            ],
        },
    ]
}

SEED_004_REQUEST: dict[str, Any] = {
    "mediaLibraryEntries": [
        {
            "id": "custom-1",
            "systemName": "externalSystem",
            "externalId": "6hedie82",
            "mediaType": "image",
            "asset": {
                "key": "2020/1/22/3a2ede93.jpeg",
                "url": "http://li.s3.amazonaws.com/2020/1/22/3a2ede93.jpeg",
                "size": 290339,
                "width": 1200,
                "height": 750,
                "filename": "image.jpg",
                "mimeType": "image/jpeg",
            },
            "metadata": {"title": "Custom title"},
        }
    ]
}


def _assets(request: dict[str, Any]) -> list[dict[str, Any]]:
    assets = []
    for entry in request["mediaLibraryEntries"]:
        assets.append(entry["asset"])
        assets += [t["asset"] for t in entry.get("translations", []) if "asset" in t]
    return assets


async def _stored(stack: Stack, request: dict[str, Any]) -> None:
    """The caller stored the assets already: that is what this endpoint is for. Each object is
    what its asset says (type, dimensions, size), as registering checks."""
    for asset in _assets(request):
        await stack.put_asset(asset["key"], faithful_bytes(asset))


def _as_returned(sent: dict[str, Any]) -> dict[str, Any]:
    """What the library says it holds for a sent asset: the URLs are its own, and an image's
    `url` is its rendition."""
    asset = copy.deepcopy(sent)
    original = f"http://media.test/media/{sent['key']}"
    if sent["mimeType"].startswith("image/"):
        asset |= {"url": f"{original}?auto=format", "originalUrl": original}
    else:
        asset["url"] = original
    return asset


@pytest.mark.parametrize(
    ("version", "key"), [("2026-05", "results"), ("2025-11", "mediaLibraryEntries")]
)
async def test_seed_003_example_request_imports_image_file_and_video(
    make_stack, version: str, key: str
) -> None:
    stack = await make_stack()
    await _stored(stack, SEED_003_REQUEST)
    api = await stack.api()

    response = await api.post(f"/api/{version}/import/mediaLibrary", json=SEED_003_REQUEST)

    assert response.status_code == 200
    body = response.json()
    assert list(body) == [key]
    results = body[key]
    assert [(r["ok"], r["status"], r["id"]) for r in results] == [
        (True, 200, "custom-1"),
        (True, 200, "custom-2"),
        (True, 200, "custom-3"),
    ]
    for sent, result in zip(SEED_003_REQUEST["mediaLibraryEntries"], results, strict=True):
        record = result["record"]
        assert record["id"] == sent["id"]
        assert record["systemName"] == "externalSystem"
        assert record["externalId"] == sent["externalId"]
        assert record["mediaType"] == sent["mediaType"]
        assert record["asset"] == _as_returned(sent["asset"])
        assert record["metadata"] == sent["metadata"]
        assert record["translations"] == [
            {
                "locale": "fr",
                "metadata": sent["translations"][0]["metadata"],
                "asset": _as_returned(sent["translations"][0]["asset"]),
            }
        ]
        assert record["version"] == 1

    stored = await api.get(f"/api/{version}/mediaLibrary", params={"ids": "custom-3,custom-1"})
    assert [e["id"] for e in stored.json()[key]] == ["custom-3", "custom-1"]


async def test_seed_004_example_request_imports_in_v1(make_stack) -> None:
    stack = await make_stack()
    await _stored(stack, SEED_004_REQUEST)
    api = await stack.api()

    response = await api.post("/api/v1/import/mediaLibrary", json=SEED_004_REQUEST)

    assert response.status_code == 200
    [result] = response.json()["mediaLibraryEntries"]
    assert result["ok"] is True
    assert result["status"] == 200
    assert result["id"] == "custom-1"
    assert result["record"]["metadata"] == {"title": "Custom title"}


def _error_case_request(base: dict[str, Any]) -> dict[str, Any]:
    """Four entries that each meet one of the seed documents' error cases."""
    image = base["mediaLibraryEntries"][0]

    def entry(entry_id: str, **changes: Any) -> dict[str, Any]:
        made = copy.deepcopy(image)
        made.pop("translations", None)
        made["id"] = entry_id
        made.update(changes)
        return {k: v for k, v in made.items() if v is not None}

    return {
        "mediaLibraryEntries": [
            entry("custom-1", externalId="fresh-1"),
            entry("custom-2", externalId="external-1"),
            entry("custom-3", systemName=None, externalId="external-3"),
            entry("custom-4", externalId="external-4", metadata={"title": 4}),
        ]
    }


async def _prepare_error_cases(stack: Stack, version: str, request: dict[str, Any]) -> Any:
    await _stored(stack, request)
    api = await stack.api()
    existing = copy.deepcopy(request["mediaLibraryEntries"][0])
    # custom-1 exists already, and another entry holds externalSystem/external-1 (sharing
    # custom-1's object, on purpose).
    holder = {**copy.deepcopy(existing), "id": "holder", "externalId": "external-1"}
    holder["asset"]["shared"] = True
    taken = {"mediaLibraryEntries": [existing, holder]}
    first = await api.post(f"/api/{version}/import/mediaLibrary", json=taken)
    assert all(r["ok"] for r in first.json()[next(iter(first.json()))])
    return api


@pytest.mark.parametrize(
    ("version", "key"), [("2026-05", "results"), ("2025-11", "mediaLibraryEntries")]
)
async def test_seed_003_error_cases_for_individual_entries(
    make_stack, version: str, key: str
) -> None:
    stack = await make_stack()
    request = _error_case_request(SEED_003_REQUEST)
    api = await _prepare_error_cases(stack, version, request)

    response = await api.post(f"/api/{version}/import/mediaLibrary", json=request)

    assert response.status_code == 200
    assert response.json() == {
        key: [
            {
                "ok": False,
                "correlation": "id: custom-1",
                "status": 409,
                "error": "UniqueIdViolation",
                "error_details": {"message": "id is not unique: 'custom-1'"},
            },
            {
                "ok": False,
                "correlation": "id: custom-2",
                "status": 409,
                "error": "UniqueIdViolation",
                "error_details": {"message": "externalId is not unique: 'external-1'"},
            },
            {
                "ok": False,
                "correlation": "id: custom-3",
                "status": 400,
                "error": "ValidationError",
                "error_details": {
                    "message": "An asset with an externalId also requires a systemName"
                },
            },
            {
                "ok": False,
                "correlation": "id: custom-4",
                "status": 400,
                "error": "ValidationError",
                "error_details": {
                    "message": "Metadata validation failed.",
                    "errors": [
                        {
                            "metadataProperty": "title",
                            "message": "The value of '/title' must be string",
                        }
                    ],
                },
            },
        ]
    }


async def test_seed_004_error_cases_in_the_v1_shape(make_stack) -> None:
    stack = await make_stack()
    request = _error_case_request(SEED_004_REQUEST)
    api = await _prepare_error_cases(stack, "v1", request)

    response = await api.post("/api/v1/import/mediaLibrary", json=request)

    assert response.status_code == 200
    results = response.json()["mediaLibraryEntries"]
    assert [r["error"] for r in results] == [
        "UniqueIdViolation",
        "UniqueIdViolation",
        "ValidationError",
        "MetadataValidationErrors",
    ]
    assert results[3] == {
        "ok": False,
        "correlation": "id: custom-4",
        "status": 400,
        "error": "MetadataValidationErrors",
        "error_details": {
            "message": "Metadata validation failed.",
            "invalidMetadata": [
                {"metadataProperty": "title", "message": "The value of '/title' should be string"}
            ],
        },
    }
