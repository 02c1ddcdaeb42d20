"""GET /api/{version}/mediaLibrary?similarTo=<id>: an entry's near-duplicates, closest first, in
the list's entry shape with `similarity.distance` (issue 30)."""

from __future__ import annotations

import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from medialib.api.versions import VERSION_NAMES, VERSIONS
from medialib.library import similar
from tests.support.entries import file_asset, import_entries, new_key, stored_image
from tests.support.stack import DEMO_MEDIA_TYPES, Stack, stack_config

LIST = "/api/2026-05/mediaLibrary"


def flip(phash: int, bits: int) -> int:
    """`phash` with its lowest bit of each band flipped, then the next, … `bits` in all."""
    for n in range(bits):
        phash ^= 1 << (16 * (n % 4) + n // 4)
    return phash


async def hashed(stack: Stack, project: str, hashes: Mapping[str, int | None]) -> None:
    """The entries' perceptual hashes, recorded as the import records them."""
    await stack.runtime.db.transact(lambda tx: similar.record_hashes(tx, project, hashes))


async def images_near(
    stack: Stack, api: httpx.AsyncClient, project: str, distances: list[int]
) -> tuple[str, list[str]]:
    """An image and one image at each distance from it; their ids."""
    centre = random.Random(30).getrandbits(64)
    base = (await stored_image(stack, api))["id"]
    others = [(await stored_image(stack, api))["id"] for _ in distances]
    hashes = {base: centre} | {
        entry_id: flip(centre, apart) for entry_id, apart in zip(others, distances, strict=True)
    }
    await hashed(stack, project, hashes)
    return base, others


async def test_near_duplicates_are_listed_closest_first_in_every_version(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    base, (same, three, ten, twelve, five) = await images_near(
        stack, api, project, [0, 3, 10, 12, 5]
    )
    archived = await api.patch(f"{LIST}/{five}", json={"patches": [{"operation": "archive"}]})
    assert archived.status_code == 200, archived.text

    for version in VERSION_NAMES:
        response = await api.get(f"/api/{version}/mediaLibrary", params={"similarTo": base})
        assert response.status_code == 200, (version, response.text)
        body = response.json()
        listed = body[VERSIONS[version].list_key]
        assert [(e["id"], e["similarity"]) for e in listed] == [
            (same, {"distance": 0}),
            (three, {"distance": 3}),
            (five, {"distance": 5}),
            (ten, {"distance": 10}),
        ], version
        assert body["cursor"] is None
    read = (await api.get(f"{LIST}/{five}")).json()
    assert listed[2] == read | {"similarity": {"distance": 5}}  # the list's shape, archived
    assert read["archived"] is True

    first_two = await api.get(LIST, params={"similarTo": base, "limit": 2})
    assert [e["id"] for e in first_two.json()["results"]] == [same, three]
    from_far = await api.get(LIST, params={"similarTo": twelve})
    # flip() flips the same bits first: 12 and 10 flipped are 2 bits apart, 12 and 5 are 7
    assert [e["id"] for e in from_far.json()["results"]] == [ten, five, three]


async def test_an_entry_without_a_hash_has_none(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    key = new_key("pdf")
    await stack.put_asset(key)
    [made] = await import_entries(api, [{"mediaType": "file", "asset": file_asset(key)}])
    image = await stored_image(stack, api)
    await hashed(stack, project, {image["id"]: 0})

    for entry_id in (made["record"]["id"], image["id"]):
        response = await api.get(LIST, params={"similarTo": entry_id})
        assert response.status_code == 200, response.text
        assert response.json() == {"results": [], "cursor": None}


async def test_an_entry_the_project_does_not_have_is_a_404(
    stack: Stack, project: str, other_project: str
) -> None:
    api = await stack.api(project)
    other_api = await stack.api(other_project)
    theirs, _ = await images_near(stack, other_api, other_project, [0])
    mine = await stored_image(stack, api)
    await hashed(stack, project, {mine["id"]: random.Random(30).getrandbits(64)})

    # Ids that entries could have (letters, digits, -), if no such entry: 404s.
    for entry_id in (theirs, "yLBGtTjWN4ba", "-", "x" * 32, "0x" + "f" * 16, "1e309", "-1"):
        response = await api.get(LIST, params={"similarTo": entry_id})
        assert response.status_code == 404, entry_id
        message = f"MediaLibrary Entry does not exist (id: '{entry_id}')"
        assert response.json() == {
            "status": 404,
            "error": "Not Found",
            "error_details": {"name": "NotFound", "message": message},
        }
    # Their entry shares the hash of mine: still never listed as mine's near-duplicate.
    assert (await api.get(LIST, params={"similarTo": mine["id"]})).json()["results"] == []


HOSTILE_IDS = [
    "",
    " ",
    "a b",
    "../../etc/passwd",
    "x" * 33,
    "x" * 101,  # past the parameter's max_length
    "x" * 6000,
    "abc\x00def",
    "abc%00",
    "ünïcødé",
    "a,b",
    "a'; DROP TABLE media_entries; --",
    "\u202e",
    "-1.5",
]


@pytest.mark.parametrize("hostile", HOSTILE_IDS)
async def test_a_malformed_id_is_a_400(stack: Stack, project: str, hostile: str) -> None:
    api = await stack.api(project)

    response = await api.get(LIST, params={"similarTo": hostile})

    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "Bad Request", body
    assert "similarTo" in str(body["error_details"]), body


UNSUPPORTED = [
    {"ids": "abc"},
    {"systemName": "archive"},
    {"externalId": "e-1"},
    {"externalIds": "e-1,e-2"},
    {"mediaType": "image"},
    {"createdAfter": "2026-01-01T00:00:00Z"},
    {"createdBefore": "2026-01-01T00:00:00Z"},
    {"updatedAfter": "2026-01-01T00:00:00Z"},
    {"archived": "false"},
    {"revoked": "false"},
    {"q": "harbour"},
    {"cursor": "bm9wZQ"},
    {"systemName": "archive", "externalId": "e-1"},
]


@pytest.mark.parametrize("combined", UNSUPPORTED, ids=lambda p: ",".join(p))
async def test_filters_and_cursors_beside_similar_to_are_a_400(
    stack: Stack, project: str, combined: dict[str, Any]
) -> None:
    api = await stack.api(project)
    base, _ = await images_near(stack, api, project, [1])

    response = await api.get(LIST, params={"similarTo": base, **combined})

    assert response.status_code == 400, response.text
    details = response.json()["error_details"]
    assert details == {"similarTo": f"takes only limit, not {', '.join(combined)}"}


@pytest.mark.parametrize("limit", ["0", "101", "-1", "x", "1e3", str(2**70)])
async def test_a_limit_outside_1_to_100_is_a_400(stack: Stack, project: str, limit: str) -> None:
    api = await stack.api(project)
    base, _ = await images_near(stack, api, project, [1])

    response = await api.get(LIST, params={"similarTo": base, "limit": limit})

    assert response.status_code == 400, response.text


async def test_a_project_sets_its_threshold(make_stack: Any, tmp_path: Path) -> None:
    config = stack_config()
    config["projects"].append(
        {"handle": "strict", "mediaTypes": DEMO_MEDIA_TYPES, "nearDuplicates": {"threshold": 3}}
    )
    own = await make_stack(config=config)
    api = await own.api("strict")
    base, (two, three, _four) = await images_near(own, api, "strict", [2, 3, 4])

    response = await api.get(LIST, params={"similarTo": base})

    assert [e["id"] for e in response.json()["results"]] == [two, three]
