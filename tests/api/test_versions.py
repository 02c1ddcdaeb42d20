"""API versions side by side: every name answers, unknown is 404, retired is 410."""

from __future__ import annotations

import pytest

from medialib.api.versions import VERSION_NAMES
from tests.support.stack import Stack

DATED = ["2025-03", "2025-05", "2025-07", "2025-09", "2025-11"]
DATED += ["2026-01", "2026-03", "2026-05", "2026-07"]


def test_every_documented_version_name_is_served() -> None:
    assert set(VERSION_NAMES) == {"v1", "beta", *DATED}


@pytest.mark.parametrize("version", ["v1", "beta", *DATED])
async def test_each_version_answers(stack: Stack, project: str, version: str) -> None:
    api = await stack.api(project)

    response = await api.post(
        f"/api/{version}/import/mediaLibrary", json={"mediaLibraryEntries": []}
    )

    key = "results" if version >= "2026-01" and version[0].isdigit() else "mediaLibraryEntries"
    assert response.json() == {key: []}


async def test_an_unknown_version_is_a_404_before_auth(stack: Stack) -> None:
    response = await stack.client().get("/api/2024-01/mediaLibrary/x")

    assert response.status_code == 404
    body = response.json()
    assert body["error_details"]["version"] == "Unknown API version '2024-01'"
    assert "2026-07" in body["error_details"]["supported"]


async def test_a_retired_version_is_410_gone(make_stack) -> None:
    stack = await make_stack(retired_versions=["v1", "2025-03"])
    api = await stack.api()

    retired = await api.get("/api/v1/mediaLibrary/x")
    live = await api.get("/api/2025-05/mediaLibrary/x")

    assert retired.status_code == 410
    assert retired.json()["error"] == "Gone"
    assert retired.json()["error_details"]["version"] == "API version 'v1' is retired"
    assert "v1" not in retired.json()["error_details"]["supported"]
    assert live.status_code == 404


async def test_an_unknown_path_is_a_404_in_the_error_shape(stack: Stack) -> None:
    response = await stack.client().get("/api/2026-05/foo")

    assert response.status_code == 404
    assert response.json() == {
        "status": 404,
        "error": "Not Found",
        "error_details": {"url": "/api/2026-05/foo"},
    }


async def test_the_openapi_docs_are_served(stack: Stack) -> None:
    client = stack.client()

    docs = await client.get("/docs")
    spec = (await client.get("/openapi.json")).json()

    assert docs.status_code == 200
    operation = spec["paths"]["/api/{version}/import/mediaLibrary"]["post"]
    schema_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert schema_ref == "#/components/schemas/ImportMediaLibraryDoc"
    assert "EntryIn" in spec["components"]["schemas"]
