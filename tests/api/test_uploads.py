"""POST /api/{version}/mediaLibrary/uploads, the PUT to its URL (a presigned S3 URL on the
PostgreSQL stack, medialib's own signed URL on the local store), then the synchronous import
(issue 12, item 3)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from tests.support import media
from tests.support.entries import image_entry, import_entries
from tests.support.stack import Stack

UPLOADS = "/api/2026-05/mediaLibrary/uploads"


async def ask(api: httpx.AsyncClient, data: bytes, **changes: Any) -> dict[str, Any]:
    body = {"fileName": "Harbour at dawn.jpg", "mimeType": "image/jpeg", "size": len(data)}
    response = await api.post(UPLOADS, json=body | changes)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def put(upload: dict[str, Any], data: bytes) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.put(upload["uploadUrl"], content=data, headers=upload["headers"])


async def test_an_upload_then_its_registration(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    picture = media.jpeg(320, 200)
    upload = await ask(api, picture)
    assert upload["key"].endswith(".jpg")
    assert upload["headers"] == {"Content-Type": "image/jpeg"}
    assert upload["expiresAt"].endswith("Z")
    stored = await put(upload, picture)
    assert stored.status_code == 200, stored.text

    asset = {"size": len(picture), "width": 320, "height": 200, "filename": "harbour.jpg"}
    [result] = await import_entries(
        api,
        [
            image_entry(upload["key"], asset=None)
            | {"asset": {"key": upload["key"], "mimeType": "image/jpeg", **asset}}
        ],
    )

    assert result["ok"], result
    served = await stack.client().get(f"/media/{upload['key']}")
    assert served.status_code == 200
    assert served.content == picture


async def test_bad_upload_requests_are_400s(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    for body in (
        {"fileName": "a.jpg", "mimeType": "image/jpeg"},
        {"fileName": "a.jpg", "mimeType": "image/jpeg", "size": 0},
        {"fileName": "a.jpg", "mimeType": "jpeg", "size": 10},
        {"fileName": "a.jpg", "mimeType": "image/jpeg", "size": "10"},
        {"fileName": "a.jpg", "mimeType": "image/jpeg", "size": 10**15},
    ):
        response = await api.post(UPLOADS, json=body)
        assert response.status_code == 400, body
        assert response.json()["error"] == "Bad Request"
    reader = stack.client(await stack.token(project, scopes=("public-api:read",)))
    refused = await reader.post(UPLOADS, json={"fileName": "a", "mimeType": "a/b", "size": 1})
    assert refused.status_code == 403


def altered(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query)) | changes
    return urlunsplit(parts._replace(query=urlencode(query)))


async def test_the_local_upload_url_takes_exactly_what_it_was_signed_for(
    stack: Stack, project: str
) -> None:
    if stack.backend != "sqlite":
        pytest.skip("the local store's own upload URL (S3 checks its presigned URLs itself)")
    api = await stack.api(project)
    data = b"%PDF-1.4 a small document\n" * 10
    upload = await ask(api, data, fileName="report.pdf", mimeType="application/pdf")
    url = upload["uploadUrl"]
    async with httpx.AsyncClient() as client:
        for forged in (
            altered(url, size=str(len(data) + 1)),
            altered(url, project="other"),
            altered(url, expires="1"),
            altered(url, signature="0" * 64),
            url.replace(".pdf?", ".exe?"),
        ):
            response = await client.put(forged, content=data)
            assert response.status_code == 403, forged
            assert response.json()["error"] == "Forbidden"
        assert (await client.put(url, content=data + b"more")).status_code == 413
        assert (await client.put(url, content=data[:-1])).status_code == 400
        assert await stack.runtime.storage.head(upload["key"]) is None
        assert (await client.put(url, content=data)).status_code == 200
        again = await client.put(url, content=data)
        assert again.status_code == 409
    assert await stack.runtime.storage.read(upload["key"]) == data
