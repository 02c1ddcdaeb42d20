"""Metadata from the file (EXIF mappings) and image URLs through imgix."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from tests.support import media
from tests.support.imports import Importer, item
from tests.support.origin import Origin
from tests.support.stack import DEMO_MEDIA_TYPES


def path(name: str) -> str:
    return f"{uuid.uuid4().hex[:10]}/{name}"


def _config(**top: Any) -> dict[str, Any]:
    image = {
        "handle": "image",
        "type": "mediaImage",
        "metadata": [
            {"handle": "title", "type": "li-text", "config": {"required": True}},
            {"handle": "credit", "type": "li-text"},
            {"handle": "keywords", "type": "li-string-list"},
        ],
        "exifExtraction": {
            "mappings": [
                {"field": "ImageDescription", "metadataPropertyName": "title"},
                {"field": "xmp:dc:title", "metadataPropertyName": "title"},
                {"field": "Artist", "metadataPropertyName": "credit"},
                {"field": "xmp:photoshop:Credit", "metadataPropertyName": "credit"},
                {"field": "xmp:dc:subject", "metadataPropertyName": "keywords"},
            ]
        },
    }
    return {"projects": [{"handle": "demo", "mediaTypes": [image, *DEMO_MEDIA_TYPES[1:]]}], **top}


async def test_exif_fills_metadata_and_the_request_wins(make_stack, origin: Origin) -> None:
    stack = await make_stack(config=_config())
    importer = await Importer.open(stack, "demo")
    tagged = origin.file(path("tagged.jpg"), media.jpeg(ImageDescription="Sunset", Artist="Jane"))
    untagged = origin.file(path("plain.jpg"), media.jpeg())
    xmp = origin.file(path("xmp.jpg"), media.jpeg_with_xmp())

    status, _ = await importer.run(
        [
            item(tagged, "from-exif"),
            item(tagged, "request-wins", metadata={"credit": "Agency"}),
            item(untagged, "required-missing"),
            item(xmp, "from-xmp"),
        ]
    )

    results = {i["externalId"]: i for i in status["images"]}
    entry = (
        await importer.api.get(
            f"/api/2026-05/mediaLibrary/{results['from-exif']['image']['mediaId']}"
        )
    ).json()
    assert entry["metadata"] == {"title": "Sunset", "credit": "Jane"}
    other = (
        await importer.api.get(
            f"/api/2026-05/mediaLibrary/{results['request-wins']['image']['mediaId']}"
        )
    ).json()
    assert other["metadata"] == {"title": "Sunset", "credit": "Agency"}
    from_xmp = (
        await importer.api.get(
            f"/api/2026-05/mediaLibrary/{results['from-xmp']['image']['mediaId']}"
        )
    ).json()
    assert from_xmp["metadata"] == {
        "title": "Harbour at dawn",
        "credit": "Agency X",
        "keywords": ["harbour", "dawn"],
    }
    assert results["required-missing"]["reasonCode"] == "invalid_metadata"
    assert "required property 'title'" in results["required-missing"]["reason"]
    await importer.close()


async def test_imgix_urls_are_signed_with_the_secure_token(make_stack, origin: Origin) -> None:
    imgix = {"imgix": {"host": "archive.imgix.net", "secureToken": "s3cr3t"}}
    config = _config(imageService=imgix)
    config["projects"][0]["mediaTypes"][0]["metadata"][0]["config"] = {}
    stack = await make_stack(config=config)
    importer = await Importer.open(stack, "demo")

    status, _ = await importer.run([item(origin.file(path("i.jpg"), media.jpeg()), "i")])

    image = status["images"][0]["image"]
    assert image["imageService"] == "imgix"
    base, _, signature = image["url"].partition("&s=")
    key_path = base.removeprefix("https://archive.imgix.net").removesuffix("?auto=format")
    assert base.startswith("https://archive.imgix.net/2")
    assert signature == hashlib.md5(f"s3cr3t{key_path}?auto=format".encode()).hexdigest()
    assert image["originalUrl"].startswith(f"https://archive.imgix.net{key_path}?s=")
    await importer.close()
