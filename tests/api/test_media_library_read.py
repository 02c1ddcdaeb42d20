"""GET /api/{version}/mediaLibrary and /mediaLibrary/{id}."""

from __future__ import annotations

from tests.support.entries import stored_image, unique
from tests.support.stack import Stack


async def test_entries_by_ids_come_in_the_order_asked(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    first = await stored_image(stack, api, id=unique("a"))
    second = await stored_image(stack, api, id=unique("b"))

    response = await api.get(
        "/api/2026-01/mediaLibrary", params={"ids": f"{second['id']},nope,{first['id']}"}
    )

    assert response.status_code == 200
    assert response.json() == {"results": [second, first]}


async def test_versions_up_to_2025_11_wrap_the_list_in_media_library_entries(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)

    for version in ("v1", "beta", "2025-03", "2025-11"):
        response = await api.get(f"/api/{version}/mediaLibrary", params={"ids": record["id"]})
        assert response.json() == {"mediaLibraryEntries": [record]}, version


async def test_one_entry_has_the_documented_shape(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api, metadata={"title": "Shape"})

    response = await api.get(f"/api/2026-05/mediaLibrary/{record['id']}")

    entry = response.json()
    assert list(entry) == [
        "id",
        "version",
        "systemName",
        "externalId",
        "mediaType",
        "asset",
        "metadata",
        "translations",
        "archived",
        "revoked",
        "createdAt",
        "updatedAt",
    ]
    original = f"http://media.test/media/{entry['asset']['key']}"
    assert entry["asset"]["originalUrl"] == original
    assert entry["asset"]["url"] == f"{original}?auto=format"  # a rendition
    assert entry["createdAt"].endswith("Z")
    assert len(entry["createdAt"]) == 24


async def test_an_unknown_id_is_a_404_in_the_documented_shape(stack: Stack, project: str) -> None:
    api = await stack.api(project)

    response = await api.get("/api/2026-05/mediaLibrary/yLBGtTjWN4ba")

    assert response.status_code == 404
    assert response.json() == {
        "status": 404,
        "error": "Not Found",
        "error_details": {
            "name": "NotFound",
            "message": "MediaLibrary Entry does not exist (id: 'yLBGtTjWN4ba')",
        },
    }


async def test_an_external_id_needs_its_system(stack: Stack, project: str) -> None:
    api = await stack.api(project)

    no_system = await api.get("/api/2026-05/mediaLibrary", params={"externalId": "x"})

    assert no_system.status_code == 400
    assert no_system.json()["error_details"] == {
        "systemName": "externalId also requires a systemName"
    }


async def test_too_many_ids_at_once_are_refused(stack: Stack, project: str) -> None:
    api = await stack.api(project)

    response = await api.get(
        "/api/2026-05/mediaLibrary", params={"ids": ",".join(f"id{i}" for i in range(1001))}
    )

    assert response.status_code == 400
    assert response.json()["error_details"] == {"ids": "at most 1000 ids at once"}
