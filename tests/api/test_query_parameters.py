"""No silent wrong answers (issue 28): a query parameter an endpoint does not take is a 400 that
names it, on every endpoint of every version's OpenAPI document; `externalIds` is a lookup."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from medialib.api.versions import VERSION_NAMES
from tests.support.entries import image_entry, import_entries, new_key, shared
from tests.support.stack import Stack

METHODS = ("get", "post", "put", "patch", "delete")
# Routes that read their query themselves: the image service takes imgix's open-ended parameters.
OWN_QUERY = ("/media/{key}",)


def _filled(path: str, version: str) -> str:
    """The path with its parameters filled in: the version, and a word for every other one."""
    return (
        path.replace("{version}", version)
        .replace("{key}", "2026/11/23/x.jpeg")
        .replace("{id}", "nothing")
    )


async def _operations(client: httpx.AsyncClient, version: str) -> list[tuple[str, str]]:
    document: dict[str, Any] = (await client.get(f"/api/{version}/openapi.json")).json()
    return [
        (method, path)
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS and path not in OWN_QUERY and "{" not in _filled(path, version)
    ]


@pytest.mark.parametrize("version", ["v1", "2025-11", "2026-01", VERSION_NAMES[-1]])
async def test_every_endpoint_refuses_a_parameter_it_does_not_take(
    stack: Stack, project: str, version: str
) -> None:
    api = await stack.api(project)
    operations = await _operations(api, version)
    assert len(operations) >= 15, operations
    for method, path in operations:
        url = _filled(path, version)
        response = await api.request(method, url, params={"colour": "red"}, json={})
        assert response.status_code == 400, (method, url, response.text)
        details = response.json()["error_details"]
        assert "colour" in details, (method, url, details)
        assert "is not a query parameter of this endpoint" in details["colour"]


async def test_known_parameters_still_work_and_strangers_learn_nothing_first(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    listed = await api.get("/api/2026-05/mediaLibrary", params={"limit": 1, "mediaType": "image"})
    assert listed.status_code == 200
    anonymous = stack.client()
    refused = await anonymous.get("/api/2026-05/mediaLibrary", params={"colour": "red"})
    assert refused.status_code == 401  # who is calling is decided first
    for hostile in ("a" * 5000, "\u202e\u0000x", "limit ", "LIMIT", "q[]", "externalid"):
        response = await api.get("/api/2026-05/mediaLibrary", params={hostile: "1"})
        assert response.status_code == 400, hostile
        (named,) = response.json()["error_details"]
        assert len(named) <= 65
        assert named.isprintable()
    many = {f"p{i}": "1" for i in range(500)}
    response = await api.get("/api/2026-05/mediaLibrary", params=many)
    assert response.status_code == 400
    assert len(response.json()["error_details"]) == 20  # named, up to a bound


async def test_external_ids_are_a_lookup(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    key = new_key()
    await stack.put_asset(key)
    made = await import_entries(
        api, [shared(image_entry(key, externalId=f"ext-{i}")) for i in range(3)]
    )
    assert all(one["ok"] for one in made)

    async def lookup(**params: str) -> httpx.Response:
        return await api.get("/api/2026-05/mediaLibrary", params={"systemName": "archive"} | params)

    found = await lookup(externalIds="ext-2,unknown,ext-0")
    assert found.status_code == 200, found.text
    assert [e["externalId"] for e in found.json()["results"]] == ["ext-2", "ext-0"]
    single = await lookup(externalId="ext-1")
    assert [e["externalId"] for e in single.json()["results"]] == ["ext-1"]
    assert (await lookup(externalIds="nothing-like-it")).json()["results"] == []
    assert (await lookup(externalIds="ext-1\u0000")).json()["results"] == []

    no_system = await api.get("/api/2026-05/mediaLibrary", params={"externalIds": "ext-1"})
    assert no_system.status_code == 400
    assert "systemName" in no_system.json()["error_details"]
    empty = await lookup(externalIds=",,")
    assert empty.status_code == 400
    too_many = await lookup(externalIds=",".join(f"x{i}" for i in range(5000)))
    assert too_many.status_code == 400
    old = await api.get(
        "/api/2025-11/mediaLibrary", params={"systemName": "archive", "externalIds": "ext-1"}
    )
    assert [e["externalId"] for e in old.json()["mediaLibraryEntries"]] == ["ext-1"]
