"""POST /api/{version}/import/mediaLibrary beyond the seed examples."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.entries import (
    faithful_bytes,
    file_asset,
    image_asset,
    image_entry,
    import_entries,
    new_key,
    shared,
    stored_image,
    unique,
)
from tests.support.stack import Stack

pytestmark = pytest.mark.asyncio


async def test_an_entry_without_id_gets_a_random_one(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    key = new_key()
    await stack.put_asset(key)

    [result] = await import_entries(api, [image_entry(key)])

    assert result["ok"] is True
    assert re.fullmatch(r"[A-Za-z0-9]{12}", result["id"])
    fetched = await api.get(f"/api/2026-05/mediaLibrary/{result['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == result["record"]


async def test_good_entries_are_written_beside_bad_ones(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    key = new_key()
    await stack.put_asset(key)
    good, bad = unique("good"), unique("bad")

    results = await import_entries(
        api,
        [
            image_entry(key, id=bad, metadata={"title": 1}),
            image_entry(key, id=good),
            "not an object",
        ],
    )

    assert [r["ok"] for r in results] == [False, True, False]
    assert results[2]["correlation"] == "index: 2"
    listed = await api.get("/api/2026-05/mediaLibrary", params={"ids": f"{good},{bad}"})
    assert [e["id"] for e in listed.json()["results"]] == [good]


async def test_duplicates_within_one_request_keep_the_first(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    key = new_key()
    await stack.put_asset(key)
    entry_id, external_id = unique("id"), unique("ext")

    results = await import_entries(
        api,
        [
            shared(image_entry(key, id=entry_id)),
            shared(image_entry(key, id=entry_id)),
            shared(image_entry(key, externalId=external_id)),
            shared(image_entry(key, externalId=external_id)),
        ],
    )

    assert [r["ok"] for r in results] == [True, False, True, False]
    assert results[1]["error_details"] == {"message": f"id is not unique: '{entry_id}'"}
    assert results[3]["error_details"] == {"message": f"externalId is not unique: '{external_id}'"}
    assert {r["status"] for r in results if not r["ok"]} == {409}


async def test_a_taken_pair_is_judged_per_system_across_requests(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    key = new_key()
    await stack.put_asset(key)
    first, second = unique("ext"), unique("ext")
    earlier = [
        shared(image_entry(key, systemName="archive-a", externalId=first)),
        shared(image_entry(key, systemName="archive-b", externalId=second)),
    ]
    assert [r["ok"] for r in await import_entries(api, earlier)] == [True, True]

    results = await import_entries(
        api,
        [
            shared(image_entry(key, systemName="archive-a", externalId=second)),
            shared(image_entry(key, systemName="archive-b", externalId=first)),
            shared(image_entry(key, systemName="archive-a", externalId=first)),
            shared(image_entry(key, systemName="archive-b", externalId=second)),
        ],
    )

    assert [r["ok"] for r in results] == [True, True, False, False]
    assert results[2]["error_details"] == {"message": f"externalId is not unique: '{first}'"}
    assert results[3]["error_details"] == {"message": f"externalId is not unique: '{second}'"}


async def test_the_same_external_id_in_another_system_is_another_entry(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    key = new_key()
    await stack.put_asset(key)
    external_id = unique("ext")

    results = await import_entries(
        api,
        [
            image_entry(key, systemName="archive-a", externalId=external_id),
            shared(image_entry(key, systemName="archive-b", externalId=external_id)),
        ],
    )

    assert [r["ok"] for r in results] == [True, True]


@pytest.mark.parametrize(
    "entry_id", ["has space", "dots.not.allowed", "x" * 33, "ümlaut", "../etc/passwd", ""]
)
async def test_ids_outside_the_allowed_alphabet_are_refused(
    stack: Stack, project: str, entry_id: str
) -> None:
    api = await stack.api(project)
    key = new_key()
    await stack.put_asset(key)

    [result] = await import_entries(api, [image_entry(key, id=entry_id)])

    assert result["ok"] is False
    assert result["status"] == 400
    assert result["error"] == "ValidationError"
    assert "id" in result["error_details"]["message"]


async def test_an_unknown_media_type_is_refused(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    key = new_key()
    await stack.put_asset(key)

    [result] = await import_entries(api, [image_entry(key, mediaType="podcast")])

    assert result["error"] == "ValidationError"
    assert "mediaType 'podcast'" in result["error_details"]["message"]


@pytest.mark.parametrize(
    ("asset_changes", "problem"),
    [
        ({"width": None}, "asset.width: Field required"),
        ({"size": "1234"}, "asset.size: Input should be a valid integer"),
        ({"mimeType": "application/pdf"}, "asset.mimeType: must be image/*"),
        ({"key": "../../etc/passwd"}, "asset.key: must be a relative path"),
        ({"key": "/abs/key.jpeg"}, "asset.key: must be a relative path"),
        ({"colour": "red"}, "asset.colour: Extra inputs are not permitted"),
    ],
)
async def test_a_bad_asset_is_a_validation_error_naming_the_field(
    stack: Stack, project: str, asset_changes: dict[str, Any], problem: str
) -> None:
    api = await stack.api(project)
    key = new_key()
    await stack.put_asset(key)
    entry = image_entry(key)
    entry["asset"] = {**image_asset(key), **asset_changes}
    entry["asset"] = {k: v for k, v in entry["asset"].items() if v is not None}

    [result] = await import_entries(api, [entry])

    assert result["ok"] is False
    assert result["error"] == "ValidationError"
    assert problem in result["error_details"]["message"]


async def test_an_asset_that_is_not_in_storage_is_refused(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    missing = new_key()

    [result] = await import_entries(api, [image_entry(missing)])

    assert result["error"] == "ValidationError"
    assert f"no stored object at '{missing}'" in result["error_details"]["message"]


async def test_another_projects_asset_cannot_be_claimed(stack: Stack, project: str) -> None:
    mine, theirs = await stack.api(project), await stack.api("other")
    key = new_key()
    await stack.put_asset(key)
    [owned] = await import_entries(theirs, [image_entry(key)])
    assert owned["ok"]

    [result] = await import_entries(mine, [image_entry(key)])

    assert result["ok"] is False
    assert f"no stored object at '{key}'" in result["error_details"]["message"]


async def test_a_file_media_type_with_allowed_mime_types_refuses_others(stack: Stack) -> None:
    api = await stack.api("typed")
    key = new_key("zip")
    await stack.put_asset(key)
    entry = {
        "mediaType": "document",
        "asset": file_asset(key, mimeType="application/zip", filename="a.zip"),
        "metadata": {"title": "zip"},
    }

    [result] = await import_entries(api, [entry])

    assert result["ok"] is False
    assert "'application/zip' is not allowed" in result["error_details"]["message"]


async def test_an_image_media_type_takes_only_its_types_and_sizes(stack: Stack) -> None:
    api = await stack.api("typed")
    key, small, large = new_key("png"), new_key("png"), new_key("png")
    png = {"mimeType": "image/png", "filename": "chart.png", "width": 640, "height": 480}
    for stored, size in ((key, 49_000), (small, 49_000), (large, 51_000)):
        await stack.put_asset(stored, faithful_bytes(png | {"size": size}))
    entry = image_entry(key, mediaType="diagram", metadata={"title": "Chart"})

    ok, jpeg, big = await import_entries(
        api,
        [
            {**entry, "asset": image_asset(key, **png, size=49_000)},
            {**entry, "asset": image_asset(small, size=49_000), "externalId": unique()},
            {**entry, "asset": image_asset(large, **png, size=51_000), "externalId": unique()},
        ],
    )

    assert ok["ok"], ok
    assert jpeg["error_details"]["errors"] == [
        {
            "property": "asset.mimeType",
            "message": "'image/jpeg' is not allowed for media type 'diagram' "
            "(allowed: image/png, image/svg+xml)",
        }
    ]
    assert big["error_details"]["errors"] == [
        {
            "property": "asset.size",
            "message": "51000 bytes is more than media type 'diagram' takes (50000)",
        }
    ]


async def test_translations_are_validated_per_locale(stack: Stack) -> None:
    api = await stack.api("typed")
    key = new_key()
    await stack.put_asset(key)
    entry = image_entry(
        key,
        metadata={"title": "Base"},
        translations=[
            {"locale": "fr", "metadata": {"rank": "premier"}},
            {"locale": "de", "metadata": {"caption": "Nur Bildtext"}},
        ],
    )

    [result] = await import_entries(api, [entry])

    assert result["error_details"]["errors"] == [
        {
            "metadataProperty": "rank",
            "message": "The value of '/rank' must be integer",
            "locale": "fr",
        }
    ]


async def test_a_translation_may_not_set_an_untranslatable_property(stack: Stack) -> None:
    api = await stack.api("typed")
    key = new_key()
    await stack.put_asset(key)
    entry = image_entry(
        key,
        metadata={"title": "Base", "credit": "Jane Doe"},
        translations=[{"locale": "de", "metadata": {"credit": "Erika Muster"}}],
    )

    [refused] = await import_entries(api, [entry])
    [accepted] = await import_entries(api, [{**entry, "translations": [], "externalId": unique()}])

    assert refused["status"] == 400
    assert refused["error_details"]["errors"] == [
        {"metadataProperty": "credit", "message": "The value of '/credit' is not translatable",
         "locale": "de"}
    ]  # fmt: skip
    assert accepted["record"]["metadata"] == {"title": "Base", "credit": "Jane Doe"}


async def test_translations_may_leave_required_properties_to_the_entry(stack: Stack) -> None:
    api = await stack.api("typed")
    key = new_key()
    await stack.put_asset(key)
    entry = image_entry(
        key,
        metadata={"title": "Base"},
        translations=[{"locale": "de", "metadata": {"caption": "Nur Bildtext"}}],
    )

    [result] = await import_entries(api, [entry])

    assert result["ok"], result
    assert result["record"]["translations"] == [
        {"locale": "de", "metadata": {"caption": "Nur Bildtext"}}
    ]


async def test_a_locale_given_twice_is_refused(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    key = new_key()
    await stack.put_asset(key)
    twice = [{"locale": "fr", "metadata": {}}, {"locale": "fr", "metadata": {}}]

    [result] = await import_entries(api, [image_entry(key, translations=twice)])

    assert "translations.1.locale: 'fr' is given twice" in result["error_details"]["message"]


async def test_more_entries_than_the_limit_is_a_clear_400(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    entries = [image_entry(new_key()) for _ in range(1001)]

    response = await api.post(
        "/api/2026-05/import/mediaLibrary", json={"mediaLibraryEntries": entries}
    )

    assert response.status_code == 400
    assert response.json() == {
        "status": 400,
        "error": "Bad Request",
        "error_details": {
            "mediaLibraryEntries": "At most 1000 entries per request; got 1001. "
            "Split them into several requests."
        },
    }


async def test_a_full_batch_of_1000_is_imported(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    key = new_key()
    await stack.put_asset(key)

    results = await import_entries(api, [shared(image_entry(key)) for _ in range(1000)])

    assert len(results) == 1000
    assert all(r["ok"] for r in results)
    assert len({r["id"] for r in results}) == 1000


@pytest.mark.parametrize(
    ("body", "details"),
    [
        (b"{not json", {"body": "Invalid JSON"}),
        (b"", {"body": "A JSON body is required."}),
        (b"[]", {"body": "Input should be a valid dictionary"}),
        (b"{}", {"mediaLibraryEntries": "Field required"}),
        (b'{"mediaLibraryEntries": {}}', {"mediaLibraryEntries": "Input should be a valid list"}),
        (b'{"mediaLibraryEntries": [], "extra": 1}', {"extra": "Extra inputs are not permitted"}),
        (b'{"mediaLibraryEntries": ["\xff"]}', {"body": "Invalid JSON"}),
    ],
)
async def test_a_malformed_body_is_a_400_naming_the_problem(
    stack: Stack, project: str, body: bytes, details: dict[str, str]
) -> None:
    api = await stack.api(project)

    response = await api.post(
        "/api/2026-05/import/mediaLibrary",
        content=body,
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 400
    got = response.json()
    assert got["status"] == 400
    assert got["error"] == "Bad Request"
    for field, message in details.items():
        assert message in got["error_details"][field]


async def test_an_empty_list_imports_nothing(stack: Stack, project: str) -> None:
    api = await stack.api(project)

    assert await import_entries(api, []) == []


async def test_a_non_json_content_type_is_refused(stack: Stack, project: str) -> None:
    api = await stack.api(project)

    response = await api.post(
        "/api/2026-05/import/mediaLibrary",
        content=b"mediaLibraryEntries=1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 415
    assert response.json()["error"] == "Unsupported Media Type"


async def test_an_imported_entry_is_readable_by_its_external_id(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)

    response = await api.get(
        "/api/2025-11/mediaLibrary",
        params={"systemName": "archive", "externalId": record["externalId"]},
    )

    assert response.json() == {"mediaLibraryEntries": [record]}
