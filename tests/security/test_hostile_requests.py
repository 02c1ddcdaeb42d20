"""Every endpoint against what a hostile or careless caller sends.

Each case must get a clear 4xx in the API's error shape, leave the server serving, and leave
everything stored for the project exactly as it was.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest

from tests.support.entries import image_entry, new_key, stored_image
from tests.support.stack import Stack

GOOD_ITEM = {"url": "https://archive.example/a.jpg", "id": "a", "fileName": "a", "metadata": {}}


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    valid: dict[str, Any] | None  # a valid JSON body, for the endpoints that take one


ENDPOINTS = [
    Endpoint(
        "import-media-library",
        "POST",
        "/api/2026-05/import/mediaLibrary",
        {"mediaLibraryEntries": [image_entry("2026/11/23/x.jpeg")]},
    ),
    Endpoint(
        "patch-entry",
        "PATCH",
        "/api/2026-05/mediaLibrary/{entry}",
        {"patches": [{"operation": "archive"}]},
    ),
    Endpoint(
        "import-images",
        "POST",
        "/api/2026-05/import/images",
        {"systemName": "s", "images": [GOOD_ITEM]},
    ),
    Endpoint(
        "import-files",
        "POST",
        "/api/2026-05/import/files",
        {"systemName": "s", "files": [GOOD_ITEM]},
    ),
]


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _bodies(valid: dict[str, Any]) -> Iterator[tuple[str, bytes, int]]:
    """(case, raw body, expected status) for a JSON endpoint whose valid body is `valid`."""
    yield "array instead of object", b"[]", 400
    yield "string instead of object", b'"hello"', 400
    yield "number instead of object", b"42", 400
    yield "null", b"null", 400
    yield "empty object", b"{}", 400
    yield "extra field", orjson.dumps({**valid, "injected": {"$where": "1"}}), 400
    for field, good in valid.items():
        for name, wrong in (("number", 7), ("string", "x"), ("null", None), ("object", {"a": 1})):
            if type(wrong) is not type(good):
                yield f"{field} as {name}", orjson.dumps({**valid, field: wrong}), 400
    yield "not JSON", b"{'single': 'quotes'}", 400
    yield "truncated JSON", orjson.dumps(valid)[:-3], 400
    yield "NaN", b'{"x": NaN}', 400
    yield "invalid UTF-8", b'{"x": "\xff\xfe"}', 400
    yield "UTF-16 body", orjson.dumps(valid).decode().encode("utf-16"), 400
    yield "nested 2,000 deep", _deep(2000), 400
    yield "nested 100,000 deep", _deep(100_000), 400
    yield "17 MB body", b'{"x": "' + b"a" * (17 * 1024 * 1024) + b'"}', 413
    yield "empty body", b"", 400


def _cases() -> Iterator[Any]:
    for endpoint in ENDPOINTS:
        assert endpoint.valid is not None
        for case, body, status in _bodies(endpoint.valid):
            yield pytest.param(endpoint, body, status, id=f"{endpoint.name}-{case}")


@pytest.fixture
async def target(stack: Stack, project: str) -> tuple[httpx.AsyncClient, dict[str, Any]]:
    api = await stack.api(project)
    entry = await stored_image(stack, api)
    return api, entry


async def _still_serving(stack: Stack) -> None:
    assert (await stack.client().get("/healthz")).json() == {"status": "ok"}


def _is_error_shape(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text[:300]
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["error"], str)
    assert isinstance(body["error_details"], dict)
    assert body["error_details"]


@pytest.mark.parametrize(("endpoint", "body", "status"), list(_cases()))
async def test_a_hostile_body_is_refused_and_changes_nothing(
    stack: Stack,
    project: str,
    target: tuple[httpx.AsyncClient, dict[str, Any]],
    endpoint: Endpoint,
    body: bytes,
    status: int,
) -> None:
    api, entry = target
    before = await stack.snapshot(project)

    response = await api.request(
        endpoint.method,
        endpoint.path.format(entry=entry["id"]),
        content=body,
        headers={"Content-Type": "application/json"},
    )

    _is_error_shape(response, status)
    await _still_serving(stack)
    assert await stack.snapshot(project) == before


TRICKY_IDS = [
    "../../etc/passwd",
    "..%2f..%2fetc%2fpasswd",
    "%00",
    "a\\b",
    "x" * 5000,
    "<script>alert(1)</script>",
    "' OR '1'='1",
    "\u202eevil",
    "%F0%9F%92%A9",
]


@pytest.mark.parametrize("entry_id", TRICKY_IDS)
async def test_ids_with_path_tricks_are_just_unknown(
    stack: Stack, project: str, target: tuple[httpx.AsyncClient, dict[str, Any]], entry_id: str
) -> None:
    api, _ = target
    before = await stack.snapshot(project)

    one = await api.get(f"/api/2026-05/mediaLibrary/{entry_id}")
    listed = await api.get("/api/2026-05/mediaLibrary", params={"ids": entry_id})
    patched = await api.patch(
        f"/api/2026-05/mediaLibrary/{entry_id}", json={"patches": [{"operation": "archive"}]}
    )
    status = await api.get("/api/2026-05/import/images/status", params={"id": entry_id})
    media = await stack.client().get(f"/media/{entry_id}")

    for response in (one, patched, status, media):
        assert response.status_code == 404, response.text[:200]
        _is_error_shape(response, 404)
    assert listed.json() == {"results": []}
    assert await stack.snapshot(project) == before


@pytest.mark.parametrize("entry_id", ["../x", "a/b", "x" * 33, "", " ", "a b", "ümlaut", "\u202e"])
async def test_bad_ids_in_an_import_fail_that_entry_only(
    stack: Stack, project: str, entry_id: str
) -> None:
    api = await stack.api(project)
    key = new_key()
    await stack.put_asset(key)

    response = await api.post(
        "/api/2026-05/import/mediaLibrary",
        json={"mediaLibraryEntries": [image_entry(key, id=entry_id), image_entry(key)]},
    )

    bad, good = response.json()["results"]
    assert bad["ok"] is False
    assert bad["status"] == 400
    assert good["ok"] is True


@pytest.mark.parametrize(
    ("endpoint", "body", "limit_field"),
    [
        (
            "/api/2026-05/import/mediaLibrary",
            {"mediaLibraryEntries": [image_entry(f"2026/11/23/{i}.jpeg") for i in range(10_000)]},
            "mediaLibraryEntries",
        ),
        (
            "/api/2026-05/import/images",
            {"systemName": "s", "images": [{**GOOD_ITEM, "id": str(i)} for i in range(10_000)]},
            "images",
        ),
        (
            "/api/2026-05/import/files",
            {"systemName": "s", "files": [{**GOOD_ITEM, "id": str(i)} for i in range(10_000)]},
            "files",
        ),
    ],
)
async def test_ten_thousand_items_are_refused_whole(
    stack: Stack, project: str, endpoint: str, body: dict[str, Any], limit_field: str
) -> None:
    api = await stack.api(project)
    before = await stack.snapshot(project)

    response = await api.post(endpoint, json=body)

    _is_error_shape(response, 400)
    assert "10000" in response.json()["error_details"][limit_field]
    assert await stack.snapshot(project) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("size", 2**63),
        ("size", 2**64 - 1),
        ("width", 10**12),
        ("duration", 1e300),
        ("size", -1),
        ("size", 1.5),
        ("size", True),
    ],
)
async def test_numbers_out_of_range_are_validation_errors(
    stack: Stack, project: str, field: str, value: Any
) -> None:
    api = await stack.api(project)
    key = new_key()
    await stack.put_asset(key)
    entry = image_entry(key)
    entry["asset"][field] = value

    response = await api.post(
        "/api/2026-05/import/mediaLibrary", json={"mediaLibraryEntries": [entry]}
    )

    [result] = response.json()["results"]
    assert result["ok"] is False
    assert result["status"] == 400
    await _still_serving(stack)


# Found by the property tests (tests/library/test_metadata_properties.py): a list or an object
# as an enum value was a 500; a URL with a trailing newline or an unclosed bracket was taken.
ODD_METADATA = [
    ("license", []),
    ("license", {"value": "cc-by"}),
    ("link", "https://archive.example/a\n"),
    ("link", "http://[::1/"),
    ("link", "https://archive.example/\x85"),
    ("link", "http://archive.example:99999/"),
    ("shotOn", "2024-02-01\n"),
]


@pytest.mark.parametrize(("name", "value"), ODD_METADATA)
async def test_odd_metadata_values_are_validation_errors(
    stack: Stack, name: str, value: Any
) -> None:
    api = await stack.api("typed")
    key = new_key()
    await stack.put_asset(key)
    record = await stored_image(stack, api, metadata={"title": "Typed"})

    imported = await api.post(
        "/api/2026-05/import/mediaLibrary",
        json={"mediaLibraryEntries": [image_entry(key, metadata={"title": "T", name: value})]},
    )
    patched = await api.patch(
        f"/api/2026-05/mediaLibrary/{record['id']}",
        json={
            "patches": [{"operation": "setMetadataProperty", "propertyName": name, "value": value}]
        },
    )

    [result] = imported.json()["results"]
    assert result["status"] == 400
    assert result["error_details"]["errors"][0]["metadataProperty"] == name
    assert patched.status_code == 400
    _is_error_shape(patched, 400)
    assert (await api.get(f"/api/2026-05/mediaLibrary/{record['id']}")).json()["version"] == 1
    await _still_serving(stack)


@pytest.mark.parametrize(
    ("context", "status"),
    [
        (b'{"n": 18446744073709551615}', 200),
        (b'{"n": -9223372036854775808}', 200),
        (b'{"n": 18446744073709551616}', 400),
        (b'{"n": -9223372036854775809}', 400),
        (b'{"n": [1, 123456789012345678901234567890]}', 400),
        (b'{"s": "123456789012345678901234567890", "f": 1.8446744073709552e19}', 200),
        (b'{"s": "\\u0000"}', 400),
        (b'{"deep": ' + _deep(200) + b"}", 200),
        (b'{"deep": ' + _deep(1000) + b"}", 400),
    ],
    ids=[
        "u64",
        "i64-min",
        "u64+1",
        "i64-min-1",
        "10^30",
        "digits-in-a-string-and-a-big-float",
        "nul",
        "200-deep",
        "1000-deep",
    ],
)
async def test_odd_context_is_taken_or_refused_cleanly(
    stack: Stack, project: str, context: bytes, status: int
) -> None:
    api = await stack.api(project)
    body = b'{"systemName": "s", "images": [' + orjson.dumps(GOOD_ITEM) + b'], "context": '

    response = await api.post(
        "/api/2026-05/import/images",
        content=body + context + b"}",
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == status, response.text[:300]
    if status == 400:
        _is_error_shape(response, 400)
    await _still_serving(stack)


BIG_INTEGERS = [b"18446744073709551616", b"-9223372036854775809", b"123456789012345678901234567890"]


@pytest.mark.parametrize("number", BIG_INTEGERS, ids=["u64+1", "i64-min-1", "10^30"])
async def test_integers_beyond_64_bits_are_refused_not_rounded(stack: Stack, number: bytes) -> None:
    # orjson reads them as floats, rounded (10^30 would be stored as 1e30): the README promises
    # a 400, for a context (above) as for metadata and patches.
    api = await stack.api("typed")
    record = await stored_image(stack, api, metadata={"title": "Typed"})
    key = new_key()
    await stack.put_asset(key)
    entry = orjson.dumps(image_entry(key, metadata={"title": "T", "score": 0}))
    imported = b'{"mediaLibraryEntries": [%s]}' % entry.replace(b'"score":0', b'"score":' + number)
    patched = (
        b'{"patches": [{"operation": "setMetadataProperty", "propertyName": "score", "value": %s}]}'
        % number
    )
    before = await stack.snapshot("typed")

    responses = [
        await api.post(
            "/api/2026-05/import/mediaLibrary",
            content=imported,
            headers={"Content-Type": "application/json"},
        ),
        await api.patch(
            f"/api/2026-05/mediaLibrary/{record['id']}",
            content=patched,
            headers={"Content-Type": "application/json"},
        ),
    ]

    for response in responses:
        _is_error_shape(response, 400)
        assert response.json()["error_details"] == {
            "body": "Integers beyond 64 bits are not accepted."
        }
    assert await stack.snapshot("typed") == before


@pytest.mark.parametrize(
    "body",
    [
        {"mediaLibraryEntries": [image_entry("2026/11/23/a.jpeg", id="a\u0000b")]},
        {"mediaLibraryEntries": [image_entry("2026/11/23/a.jpeg", metadata={"title": "\u0000"})]},
        {"mediaLibraryEntries": [{"\u0000": 1}]},
    ],
)
async def test_nul_characters_anywhere_in_a_body_are_a_400(
    stack: Stack, project: str, body: dict[str, Any]
) -> None:
    # PostgreSQL cannot store them; both backends refuse them alike.
    api = await stack.api(project)

    response = await api.post("/api/2026-05/import/mediaLibrary", json=body)

    _is_error_shape(response, 400)
    assert response.json()["error_details"] == {
        "body": "NUL characters (\\u0000) are not accepted."
    }


async def test_a_giant_header_is_refused_and_the_server_goes_on(stack: Stack) -> None:
    host, port = stack.server.host, stack.server.port
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n")
        answer = sock.recv(100)

    assert answer.startswith(b"HTTP/1.1 4")
    await _still_serving(stack)


async def test_thousands_of_headers_are_refused(stack: Stack) -> None:
    headers = b"".join(b"X-H%d: v\r\n" % i for i in range(20_000))
    with socket.create_connection((stack.server.host, stack.server.port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
        answer = sock.recv(100)

    assert answer.startswith(b"HTTP/1.1 4")
    await _still_serving(stack)
