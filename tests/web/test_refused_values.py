"""The web view refuses what the API refuses, in the API's words, and stores nothing of it.

Each value a hostile-body test of the API refuses (tests/security/test_hostile_requests.py:
NUL in a text or a key, integers beyond 64 bits, nesting past 254) is posted through each form
and JSON endpoint of the web view that can carry it, over HTTP, on both backends (PostgreSQL
cannot store a NUL at all). The message expected is the one the API answers for the same value.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from tests.support.entries import new_key, stored_image
from tests.support.stack import Stack
from tests.support.web import WebSession, sign_in

V = "2026-05"
PROJECT = "typed"  # its media type has a property of each kind


# Each value as a form field's text and as JSON, as the API's tests send it.
NUL = ("a\x00b", b'"a\\u0000b"')
BIG_INTEGERS = {
    "2^64": "18446744073709551616",
    "-2^63-1": "-9223372036854775809",
    "10^30": "123456789012345678901234567890",
}
DEEP = b"[" * 1000 + b"]" * 1000


def _metadata_cases() -> Iterator[Any]:
    """(property, form text, the value as JSON) for the entry's metadata form."""
    for prop in ("caption", "keywords", "link"):  # li-text, li-string-list, li-url
        yield pytest.param(prop, NUL[0], NUL[1], id=f"{prop}-NUL")
    for prop in ("rank", "score"):  # li-integer, li-numeric
        for name, digits in BIG_INTEGERS.items():
            yield pytest.param(prop, digits, digits.encode(), id=f"{prop}-{name}")
    for name, digits in BIG_INTEGERS.items():  # li-numeric-list
        yield pytest.param("focus", f"1, {digits}", b"[1, " + digits.encode() + b"]", id=name)


def _json_cases() -> Iterator[Any]:
    """(field, the value as JSON) for what upload.js sends."""
    yield pytest.param("fileName", NUL[1], id="fileName-NUL")
    yield pytest.param("\x00", b"1", id="NUL-in-a-key")
    for name, digits in BIG_INTEGERS.items():
        yield pytest.param("size", digits.encode(), id=f"size-{name}")
    yield pytest.param("width", DEEP, id="width-1000-deep")


async def _api_says(api: httpx.AsyncClient, path: str, body: bytes, method: str = "POST") -> str:
    """The API's refusal of a raw JSON body: its one message."""
    response = await api.request(
        method, path, content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text[:300]
    [message] = response.json()["error_details"].values()
    assert isinstance(message, str)
    return message


def _with(fields: bytes, name: str, value: bytes) -> bytes:
    """A JSON object's text with one more field whose value is raw JSON text."""
    return fields[:-1] + b", " + orjson.dumps(name) + b": " + value + b"}"


def _field_error(page: str, prop: str) -> str | None:
    found = re.search(rf'<p id="m-{prop}-error" class="error field-error">([^<]*)</p>', page)
    return html.unescape(found.group(1)) if found else None


@pytest.fixture
async def signed_in(stack: Stack) -> WebSession:
    return await sign_in(stack, await stack.token(PROJECT))


@pytest.mark.parametrize(("prop", "text", "as_json"), list(_metadata_cases()))
async def test_the_metadata_form_refuses_what_the_api_refuses(
    stack: Stack, signed_in: WebSession, prop: str, text: str, as_json: bytes
) -> None:
    api = await stack.api(PROJECT)
    entry = await stored_image(stack, api, metadata={"title": "Typed"})
    setting = orjson.dumps({"operation": "setMetadataProperty", "propertyName": prop})
    patch = b'{"patches": [%s]}' % _with(setting, "value", as_json)
    expected = await _api_says(api, f"/api/{V}/mediaLibrary/{entry['id']}", patch, "PATCH")
    before = await stack.snapshot(PROJECT)

    response = await signed_in.post_form(
        f"/ui/entries/{entry['id']}/metadata", {"version": "1", "title": "Typed", prop: text}
    )

    assert response.status_code == 400, response.text[:500]
    assert _field_error(response.text, prop) == expected
    assert await stack.snapshot(PROJECT) == before


async def test_a_revoke_note_is_refused_as_the_api_refuses_it(
    stack: Stack, signed_in: WebSession
) -> None:
    api = await stack.api(PROJECT)
    entry = await stored_image(stack, api, metadata={"title": "Typed"})
    patch = b'{"patches": [{"operation": "revokeAsset", "note": %s}]}' % NUL[1]
    expected = await _api_says(api, f"/api/{V}/mediaLibrary/{entry['id']}", patch, "PATCH")
    before = await stack.snapshot(PROJECT)

    response = await signed_in.post_form(f"/ui/entries/{entry['id']}/revoke", {"note": NUL[0]})

    assert response.status_code == 400, response.text[:500]
    assert html.escape(expected, quote=False) in response.text
    assert await stack.snapshot(PROJECT) == before


@pytest.mark.parametrize(("field", "as_json"), list(_json_cases()))
async def test_an_upload_is_refused_as_the_api_refuses_it(
    stack: Stack, signed_in: WebSession, field: str, as_json: bytes
) -> None:
    api = await stack.api(PROJECT)
    asked = orjson.dumps({"fileName": "a.jpeg", "mimeType": "image/jpeg", "size": 100})
    expected = await _api_says(api, f"/api/{V}/mediaLibrary/uploads", _with(asked, field, as_json))
    before = await stack.snapshot(PROJECT)

    response = await signed_in.post_json("/ui/uploads", _with(asked, field, as_json))

    assert response.status_code == 400, response.text[:500]
    assert response.json()["error_details"] == {"body": expected}
    assert await stack.snapshot(PROJECT) == before


@pytest.mark.parametrize(("field", "as_json"), list(_json_cases()))
async def test_a_registration_is_refused_as_the_api_refuses_it(
    stack: Stack, signed_in: WebSession, field: str, as_json: bytes
) -> None:
    api = await stack.api(PROJECT)
    key = new_key()
    await stack.put_asset(key)
    facts = orjson.dumps({"key": key, "fileName": "a.jpeg", "mimeType": "image/jpeg"})
    asset = _with(orjson.dumps({"key": key, "filename": "a.jpeg"}), field, as_json)
    api_body = b'{"mediaLibraryEntries": [{"mediaType": "image", "asset": %s}]}' % asset
    expected = await _api_says(api, f"/api/{V}/import/mediaLibrary", api_body)
    before = await stack.snapshot(PROJECT)

    response = await signed_in.post_json("/ui/uploads/register", _with(facts, field, as_json))

    assert response.status_code == 400, response.text[:500]
    assert response.json()["error_details"] == {"body": expected}
    assert await stack.snapshot(PROJECT) == before


@pytest.mark.parametrize("name", ["systemName", "mediaType"])
async def test_a_filter_with_nul_finds_nothing(
    stack: Stack, signed_in: WebSession, name: str
) -> None:
    # Nothing stored holds a NUL; PostgreSQL refuses one even in a query (it was a 500).
    api = await stack.api(PROJECT)
    await stored_image(stack, api, metadata={"title": "Typed"})

    listed = await api.get(f"/api/{V}/mediaLibrary", params={name: "a\x00b"})
    page = await signed_in.client.get("/ui/library", params={name: "a\x00b"})

    assert listed.status_code == 200, listed.text[:300]
    assert listed.json() == {"results": [], "cursor": None}
    assert page.status_code == 200, page.text[:300]
    assert "Nothing matches." in page.text
