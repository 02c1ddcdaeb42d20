"""The image service around renditions: signed URLs, the URLs results hand out, and the original
API's serve-image and entry keys endpoints."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support import pictures
from tests.support.entries import image_asset, image_entry, import_entries, new_key
from tests.support.stack import Stack, stack_config

TOKEN = "rendition-secret-0123456789"


async def stored_entry(stack: Stack, api: httpx.AsyncClient, **entry: object) -> dict[str, Any]:
    data = pictures.encode(pictures.quadrants())
    key = new_key()
    await stack.put_asset(key, data)
    asset = image_asset(key, size=len(data), width=200, height=100)
    [result] = await import_entries(api, [image_entry(key, asset=asset, **entry)])
    assert result["ok"], result
    read = await api.get(f"/api/2026-05/mediaLibrary/{result['id']}")
    entry_json: dict[str, Any] = read.json()
    return entry_json


def local(url: str) -> str:
    """A URL handed out under MEDIALIB_PUBLIC_URL, as a path on the test server."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def sign(path: str, query: str) -> str:
    return hashlib.md5(f"{TOKEN}{path}?{query}".encode()).hexdigest()


@pytest.fixture
async def signed(make_stack) -> Stack:
    config = stack_config() | {"imageService": {"medialib": {"secureToken": TOKEN}}}
    made: Stack = await make_stack(config=config)
    return made


async def test_with_a_secure_token_handed_out_urls_are_signed_and_work(signed: Stack) -> None:
    api = await signed.api()
    entry = await stored_entry(signed, api)
    asset = entry["asset"]
    path = f"/media/{asset['key']}"
    assert asset["url"] == f"http://media.test{path}?auto=format&s={sign(path, 'auto=format')}"
    assert asset["originalUrl"] == f"http://media.test{path}"  # originals need no signature
    served = await signed.client().get(local(asset["url"]))
    assert served.status_code == 200, served.text
    assert pictures.decode(served.content).size == (200, 100)
    assert (await signed.client().get(path)).status_code == 200


async def test_unsigned_or_tampered_rendition_urls_are_403s(signed: Stack) -> None:
    api = await signed.api()
    key = (await stored_entry(signed, api))["asset"]["key"]
    path = f"/media/{key}"
    good = f"{path}?w=100&s={sign(path, 'w=100')}"
    assert (await signed.client().get(good)).status_code == 200
    for wrong in (
        f"{path}?w=100",  # unsigned
        f"{path}?w=1000&s={sign(path, 'w=100')}",  # another width under the same signature
        f"{path}?w=100&s={sign('/media/other.jpg', 'w=100')}",  # another picture's
        f"{path}?w=100&s=",
    ):
        response = await signed.client().get(wrong)
        assert response.status_code == 403, wrong
        assert response.json()["error"] == "Forbidden"


async def test_imgix_urls_stay_as_they_were(make_stack) -> None:
    config = stack_config() | {"imageService": {"imgix": {"host": "archive.imgix.net"}}}
    stack = await make_stack(config=config)
    entry = await stored_entry(stack, await stack.api())
    assert entry["asset"]["url"] == f"http://media.test/media/{entry['asset']['key']}"
    assert "originalUrl" not in entry["asset"]


async def test_serve_image_serves_the_original_while_it_may(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    entry = await stored_entry(stack, api)
    key = entry["asset"]["key"]
    served = await api.get(f"/api/2025-03/mediaLibrary/serve-image/{key}")
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert served.content == pictures.encode(pictures.quadrants())
    assert (
        await stack.client().get(f"/api/2025-03/mediaLibrary/serve-image/{key}")
    ).status_code == 401

    stranger = await stack.api("other")
    foreign = await stranger.get(f"/api/2026-05/mediaLibrary/serve-image/{key}")
    assert foreign.status_code == 404
    assert foreign.json()["error_details"] == {"message": "No image found."}
    unknown = await api.get(f"/api/2026-05/mediaLibrary/serve-image/{new_key()}")
    assert unknown.json() == {
        "status": 404,
        "error": "Not Found",
        "error_details": {"message": "No image found."},
    }

    await api.patch(
        f"/api/2026-05/mediaLibrary/{entry['id']}",
        json={"patches": [{"operation": "revokeAsset"}]},
    )
    revoked = await api.get(f"/api/2026-05/mediaLibrary/serve-image/{key}")
    assert revoked.json() == {
        "status": 403,
        "error": "Forbidden",
        "error_details": {"message": "The requested image is revoked or marked as invalid"},
    }


async def test_entry_keys_list_every_key_it_had_and_its_renditions(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    translated = new_key()
    picture = pictures.encode(pictures.quadrants())
    await stack.put_asset(translated, picture)
    translation = {
        "locale": "fr",
        "metadata": {},
        "asset": image_asset(translated, size=len(picture), width=200, height=100),
    }
    entry = await stored_entry(stack, api, translations=[translation])
    first = entry["asset"]["key"]
    rendition = await stack.client().get(f"/media/{first}?w=50&fm=webp")
    assert rendition.status_code == 200
    replacement = new_key()
    await stack.put_asset(replacement, picture)
    replaced = await api.patch(
        f"/api/2026-05/mediaLibrary/{entry['id']}",
        json={
            "patches": [
                {
                    "operation": "replaceAsset",
                    "value": image_asset(replacement, size=len(picture), width=200, height=100),
                }
            ]
        },
    )
    assert replaced.status_code == 200, replaced.text

    response = await api.get(f"/api/2026-03/mediaLibrary/{entry['id']}/keys")
    assert response.status_code == 200
    keys = response.json()["results"]
    assert set(keys[:3]) == {first, translated, replacement}
    [variant] = keys[3:]
    assert variant.startswith(f"v/{first}/")
    assert variant.endswith(".webp")

    older = await api.get(f"/api/2026-01/mediaLibrary/{entry['id']}/keys")
    assert older.status_code == 404
    missing = await api.get("/api/2026-03/mediaLibrary/nosuchentry/keys")
    assert missing.status_code == 404
