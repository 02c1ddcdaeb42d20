"""DELETE /api/{version}/mediaLibrary/{id}, shared objects, and revocation per entry
(issue 12, items 2 and 4)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.support.entries import image_entry, import_entries, stored_image
from tests.support.stack import Stack

LIBRARY = "/api/2026-05/mediaLibrary"


async def gone(stack: Stack, key: str) -> None:
    """Until the object has left storage: a task deletes it after the entry's transaction, and
    storage is the only witness, so it is looked at a short pause apart, within a deadline."""
    async with asyncio.timeout(30):
        while await stack.runtime.storage.head(key) is not None:
            await asyncio.sleep(0.02)


async def sharing(stack: Stack, api: httpx.AsyncClient) -> tuple[str, Any, Any]:
    """Two entries on one object, the second sharing it on purpose."""
    first = await stored_image(stack, api)
    key = first["asset"]["key"]
    [second] = await import_entries(api, [image_entry(key, asset=None) | {"asset": shared(key)}])
    assert second["ok"], second
    return key, first, second["record"]


def shared(key: str) -> dict[str, Any]:
    entry = image_entry(key)
    asset: dict[str, Any] = entry["asset"]
    return asset | {"shared": True}


async def patch(api: httpx.AsyncClient, entry: Any, *patches: Any, version: int = 1) -> None:
    body = {"version": version, "patches": list(patches)}
    response = await api.patch(f"{LIBRARY}/{entry['id']}", json=body)
    assert response.status_code == 200, response.text


async def test_a_deleted_entry_is_gone_with_its_object(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api, externalId="photo-1")
    key = record["asset"]["key"]
    assert (await stack.client().get(f"/media/{key}")).status_code == 200

    response = await api.delete(f"{LIBRARY}/{record['id']}")

    assert response.status_code == 200, response.text
    assert response.json() == {"status": 200}
    assert (await api.get(f"{LIBRARY}/{record['id']}")).status_code == 404
    assert (await stack.client().get(f"/media/{key}")).status_code == 404
    await gone(stack, key)
    again = await api.delete(f"{LIBRARY}/{record['id']}")
    assert again.status_code == 404
    # The (systemName, externalId) pair is free again: the same entry imports as new.
    await stack.put_asset(key)
    [result] = await import_entries(api, [image_entry(key, externalId="photo-1")])
    assert result["ok"], result
    assert result["record"]["id"] != record["id"]


async def test_a_shared_object_stays_until_its_last_entry_goes(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    key, first, second = await sharing(stack, api)

    assert (await api.delete(f"{LIBRARY}/{first['id']}")).status_code == 200
    served = await stack.client().get(f"/media/{key}")
    assert served.status_code == 200
    assert await stack.runtime.storage.head(key) is not None

    assert (await api.delete(f"{LIBRARY}/{second['id']}")).status_code == 200
    await gone(stack, key)
    assert (await stack.client().get(f"/media/{key}")).status_code == 404


async def test_a_key_of_another_entry_needs_shared(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    first = await stored_image(stack, api)
    key = first["asset"]["key"]

    [refused] = await import_entries(api, [image_entry(key)])
    assert not refused["ok"]
    assert refused["status"] == 400
    [problem] = refused["error_details"]["errors"]
    assert problem["property"] == "asset.key"
    assert first["id"] in problem["message"]
    assert '"shared": true' in problem["message"]

    other = await stored_image(stack, api)
    response = await api.patch(
        f"{LIBRARY}/{other['id']}",
        json={
            "version": 1,
            "patches": [{"operation": "replaceAsset", "value": image_entry(key)["asset"]}],
        },
    )
    assert response.status_code == 400
    assert first["id"] in response.json()["error_details"]["patches.0.value.key"]
    await patch(api, other, {"operation": "replaceAsset", "value": shared(key)})
    assert (await api.get(f"{LIBRARY}/{other['id']}")).json()["asset"]["key"] == key
    assert "shared" not in (await api.get(f"{LIBRARY}/{other['id']}")).json()["asset"]


async def test_revocation_belongs_to_the_entry(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    key, first, second = await sharing(stack, api)
    alone = await stored_image(stack, api)
    media = stack.client()

    await patch(api, first, {"operation": "revokeAsset"})
    await patch(api, alone, {"operation": "revokeAsset"})

    # A takedown takes down: the object shared on purpose stops for the second entry too.
    assert (await media.get(f"/media/{key}")).status_code == 403
    assert (await media.get(f"/media/{alone['asset']['key']}")).status_code == 403
    await patch(api, second, {"operation": "revokeAsset"})
    await patch(api, first, {"operation": "unrevokeAsset"}, version=2)
    assert (await media.get(f"/media/{key}")).status_code == 403  # the second is revoked still
    # Deleting the revoked holder leaves only a live one: the object is served again.
    assert (await api.delete(f"{LIBRARY}/{second['id']}")).status_code == 200
    assert (await media.get(f"/media/{key}")).status_code == 200


async def test_delete_needs_write_and_stays_in_its_project(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)
    reader = stack.client(await stack.token(project, scopes=("public-api:read",)))
    stranger = await stack.api("other")

    assert (await reader.delete(f"{LIBRARY}/{record['id']}")).status_code == 403
    assert (await stranger.delete(f"{LIBRARY}/{record['id']}")).status_code == 404
    assert (await api.get(f"{LIBRARY}/{record['id']}")).status_code == 200
