"""GET /media/{key}: stored type, ETag, conditional and range requests, revoked assets."""

from __future__ import annotations

import hashlib
import io

import httpx
from PIL import Image

from tests.support.entries import image_entry, import_entries, new_key
from tests.support.stack import Stack


def _noisy_png(side: int = 64) -> bytes:
    """A PNG of noise (about 12 KB: noise does not compress), so ranges have bytes to cut."""
    noise = b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(side * side))
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), noise[: side * side * 3]).save(out, "PNG")
    return out.getvalue()


BODY = _noisy_png()


async def _served_asset(stack: Stack, project: str) -> tuple[str, httpx.AsyncClient]:
    api = await stack.api(project)
    key = new_key("png")
    await stack.put_asset(key, BODY)
    entry = image_entry(key)
    entry["asset"] |= {"mimeType": "image/png", "size": len(BODY), "width": 64, "height": 64}
    [result] = await import_entries(api, [entry])
    assert result["ok"]
    return key, stack.client()


async def test_an_asset_is_served_with_its_stored_type(stack: Stack, project: str) -> None:
    key, client = await _served_asset(stack, project)

    response = await client.get(f"/media/{key}")

    assert response.status_code == 200
    assert response.content == BODY
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-length"] == str(len(BODY))
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["etag"].startswith('"')


async def test_head_has_the_headers_and_no_body(stack: Stack, project: str) -> None:
    key, client = await _served_asset(stack, project)

    response = await client.head(f"/media/{key}")

    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(BODY))
    assert response.content == b""


async def test_a_matching_etag_or_date_is_304(stack: Stack, project: str) -> None:
    key, client = await _served_asset(stack, project)
    first = await client.get(f"/media/{key}")

    by_etag = await client.get(f"/media/{key}", headers={"If-None-Match": first.headers["etag"]})
    by_date = await client.get(
        f"/media/{key}", headers={"If-Modified-Since": first.headers["last-modified"]}
    )
    other_etag = await client.get(f"/media/{key}", headers={"If-None-Match": '"other"'})

    assert by_etag.status_code == 304
    assert by_etag.content == b""
    assert by_date.status_code == 304
    assert other_etag.status_code == 200


async def test_byte_ranges_are_served_as_206(stack: Stack, project: str) -> None:
    key, client = await _served_asset(stack, project)

    middle = await client.get(f"/media/{key}", headers={"Range": "bytes=100-199"})
    tail = await client.get(f"/media/{key}", headers={"Range": "bytes=-10"})
    open_ended = await client.get(f"/media/{key}", headers={"Range": "bytes=10000-"})

    assert middle.status_code == 206
    assert middle.content == BODY[100:200]
    assert middle.headers["content-range"] == f"bytes 100-199/{len(BODY)}"
    assert tail.content == BODY[-10:]
    assert open_ended.content == BODY[10000:]


async def test_a_range_outside_the_body_is_416(stack: Stack, project: str) -> None:
    key, client = await _served_asset(stack, project)

    response = await client.get(f"/media/{key}", headers={"Range": "bytes=20000-30000"})

    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(BODY)}"


async def test_a_stale_if_range_gets_the_whole_body(stack: Stack, project: str) -> None:
    key, client = await _served_asset(stack, project)

    response = await client.get(
        f"/media/{key}", headers={"Range": "bytes=0-9", "If-Range": '"stale"'}
    )

    assert response.status_code == 200
    assert response.content == BODY


async def test_unknown_and_unsafe_keys_are_404(stack: Stack) -> None:
    client = stack.client()
    await stack.put_asset("2026/11/23/stored-but-never-imported.png", BODY)

    for path in (
        "/media/2026/11/23/nothing.png",
        "/media/2026/11/23/stored-but-never-imported.png",
        "/media/..%2f..%2fetc/passwd",
        "/media/2026/../../medialib.db",
    ):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.json()["status"] == 404
