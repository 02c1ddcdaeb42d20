"""An entry's metadata decides whether it is served (issue 28): marked invalid (`li-invalid`) or
outside one of its validity windows (`li-datetime-validity`), it is served like a revoked entry,
`serve-image`, its original and its renditions all 403, until a write makes it valid again. A
shared object is withheld while any entry holding it is. The windows' own boundaries (a task at
each) are tested with the events they send, in tests/events/test_validity_events.py."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support import media
from tests.support.entries import image_entry, import_entries, new_key, shared, unique
from tests.support.imports import Importer, item
from tests.support.origin import Origin
from tests.support.stack import Stack

PROJECT = "validity"  # its image type has `invalid` (li-invalid), `validity` and `embargo`
V = "2026-05"
PAST = {"from": "2001-01-01T00:00:00Z", "to": "2002-01-01T00:00:00+01:00"}
NOW_ON = {"from": "2001-01-01T00:00:00.000Z"}
LATER = {"from": "2999-01-01T00:00:00+02:00"}
SERVED = (200, 200, 200)
WITHHELD = (403, 403, 403)


async def _entry(stack: Stack, api: httpx.AsyncClient, **metadata: Any) -> dict[str, Any]:
    key = new_key()
    await stack.put_asset(key)
    [result] = await import_entries(api, [image_entry(key, metadata={"title": "A"} | metadata)])
    assert result["ok"], result
    record: dict[str, Any] = result["record"]
    return record


async def _served(stack: Stack, api: httpx.AsyncClient, key: str) -> tuple[int, int, int]:
    """serve-image, the original's URL and a rendition's."""
    image = await api.get(f"/api/{V}/mediaLibrary/serve-image/{key}")
    original = await stack.client().get(f"/media/{key}")
    rendition = await stack.client().get(f"/media/{key}?w=64")
    return image.status_code, original.status_code, rendition.status_code


async def _set(api: httpx.AsyncClient, entry_id: str, **values: Any) -> httpx.Response:
    patches = [
        {"operation": "setMetadataProperty", "propertyName": name, "value": value}
        for name, value in values.items()
    ]
    return await api.patch(f"/api/{V}/mediaLibrary/{entry_id}", json={"patches": patches})


async def test_an_entry_marked_invalid_is_not_served_until_it_is_unmarked(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    record = await _entry(stack, api, invalid=True)
    key = record["asset"]["key"]

    assert await _served(stack, api, key) == WITHHELD
    image = await api.get(f"/api/{V}/mediaLibrary/serve-image/{key}")
    assert image.json()["error_details"] == {
        "message": "The requested image is revoked or marked as invalid"
    }
    original = await stack.client().get(f"/media/{key}")
    assert original.json()["error_details"] == {
        "message": "The requested asset is revoked or marked as invalid."
    }
    read = (await api.get(f"/api/{V}/mediaLibrary/{record['id']}")).json()
    assert read["revoked"] is False  # invalid is what its metadata says, not a revocation
    assert read["metadata"] == {"title": "A", "invalid": True}
    assert set(read) == set(record)  # the entry's shape is as ever

    assert (await _set(api, record["id"], invalid=False)).status_code == 200
    assert await _served(stack, api, key) == SERVED
    assert (await _set(api, record["id"], invalid=True)).status_code == 200
    assert await _served(stack, api, key) == WITHHELD
    assert (await _set(api, record["id"], invalid=None)).status_code == 200  # unset: valid
    assert await _served(stack, api, key) == SERVED


@pytest.mark.parametrize(
    ("metadata", "served"),
    [
        ({}, SERVED),
        ({"validity": {}}, SERVED),
        ({"validity": NOW_ON}, SERVED),
        ({"validity": {"to": "2999-01-01T00:00:00Z"}}, SERVED),
        ({"validity": PAST}, WITHHELD),
        ({"validity": LATER}, WITHHELD),
        ({"validity": {"to": "2001-01-01T00:00:00Z"}}, WITHHELD),
        # either window excludes it
        ({"validity": NOW_ON, "embargo": LATER}, WITHHELD),
        # li-invalid decides over the windows
        ({"validity": NOW_ON, "invalid": True}, WITHHELD),
        ({"validity": PAST, "invalid": False}, WITHHELD),
        # `from` after `to` (or the same moment): the window never opens. Accepted (the
        # original's docs set no rule), and never served.
        ({"validity": {"from": "2002-01-01T00:00:00Z", "to": "2001-01-01T00:00:00Z"}}, WITHHELD),
        (
            {"validity": {"from": "2001-01-01T01:00:00+01:00", "to": "2001-01-01T00:00:00Z"}},
            WITHHELD,
        ),
        # the ends of what a datetime can say, and beyond what UTC can
        ({"validity": {"from": "0001-01-01T00:00:00+14:00"}}, SERVED),
        ({"validity": {"to": "9999-12-31T23:59:59.999999-14:00"}}, SERVED),
        ({"validity": {"from": "9999-12-31T23:59:59-14:00"}}, WITHHELD),
    ],
)
async def test_outside_its_validity_an_entry_is_not_served(
    stack: Stack, metadata: dict[str, Any], served: tuple[int, int, int]
) -> None:
    api = await stack.api(PROJECT)
    record = await _entry(stack, api, **metadata)

    assert await _served(stack, api, record["asset"]["key"]) == served
    read = (await api.get(f"/api/{V}/mediaLibrary/{record['id']}")).json()
    assert read["metadata"] == {"title": "A"} | metadata  # stored as sent


async def test_editing_a_window_acts_at_once(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    record = await _entry(stack, api, validity=LATER)
    key = record["asset"]["key"]
    assert await _served(stack, api, key) == WITHHELD

    assert (await _set(api, record["id"], validity=NOW_ON)).status_code == 200
    assert await _served(stack, api, key) == SERVED
    assert (await _set(api, record["id"], embargo=PAST)).status_code == 200
    assert await _served(stack, api, key) == WITHHELD
    assert (await _set(api, record["id"], embargo=None, validity=None)).status_code == 200
    assert await _served(stack, api, key) == SERVED


async def test_a_shared_object_is_withheld_while_either_holder_is(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    key = new_key()
    await stack.put_asset(key)
    first, second = (
        shared(image_entry(key, metadata={"title": "One", "invalid": True})),
        shared(image_entry(key, metadata={"title": "Two"})),
    )
    results = await import_entries(api, [first, second])
    assert [r["ok"] for r in results] == [True, True], results
    one, two = (r["record"]["id"] for r in results)
    assert await _served(stack, api, key) == WITHHELD

    assert (await _set(api, two, validity=PAST)).status_code == 200
    assert (await _set(api, one, invalid=False)).status_code == 200
    assert await _served(stack, api, key) == WITHHELD  # the second holder is outside its window

    assert (await _set(api, two, validity=NOW_ON)).status_code == 200
    assert await _served(stack, api, key) == SERVED


async def test_revocation_and_validity_are_independent(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    record = await _entry(stack, api, invalid=True)
    key, library = record["asset"]["key"], f"/api/{V}/mediaLibrary/{record['id']}"

    revoke = await api.patch(library, json={"patches": [{"operation": "revokeAsset"}]})
    assert revoke.status_code == 200, revoke.text
    assert (await _set(api, record["id"], invalid=False)).status_code == 200
    assert await _served(stack, api, key) == WITHHELD  # still revoked
    assert (await api.get(library)).json()["revoked"] is True

    assert (await _set(api, record["id"], invalid=True)).status_code == 200
    unrevoke = await api.patch(library, json={"patches": [{"operation": "unrevokeAsset"}]})
    assert unrevoke.status_code == 200, unrevoke.text
    assert (await api.get(library)).json()["revoked"] is False
    assert await _served(stack, api, key) == WITHHELD  # still invalid

    assert (await _set(api, record["id"], invalid=False)).status_code == 200
    assert await _served(stack, api, key) == SERVED


async def test_a_url_import_marked_invalid_is_not_served(stack: Stack, origin: Origin) -> None:
    importer = await Importer.open(stack, PROJECT)
    try:
        url = origin.file(f"{unique()}/picture.jpg", media.jpeg())
        items = [
            item(url, unique("invalid"), metadata={"title": "A", "invalid": True}),
            item(url, unique("later"), metadata={"title": "B", "validity": LATER}),
            item(url, unique("valid"), metadata={"title": "C", "validity": NOW_ON}),
        ]
        status, _ = await importer.run(items)
    finally:
        await importer.close()
    api = await stack.api(PROJECT)

    assert [i["state"] for i in status["images"]] == ["success"] * 3, status
    keys = [
        (await api.get(f"/api/{V}/mediaLibrary/{i['image']['mediaId']}")).json()["asset"]["key"]
        for i in status["images"]
    ]
    assert [await _served(stack, api, key) for key in keys] == [WITHHELD, WITHHELD, SERVED]


def _no_datetime(member: str) -> str:
    return f"The value of '/validity/{member}' must match format \"date-time\""


# Hostile values: each a 400 in the metadata error shape, nothing stored, never a 500.
REFUSED: list[tuple[str, Any, str]] = [
    ("invalid", "true", "The value of '/invalid' must be boolean"),
    ("invalid", 1, "The value of '/invalid' must be boolean"),
    ("invalid", [True], "The value of '/invalid' must be boolean"),
    ("validity", "2026-01-01T00:00:00Z", "The value of '/validity' must be object"),
    ("validity", {"from": "2026-01-01T00:00:00"}, _no_datetime("from")),  # no offset
    ("validity", {"to": "2026-13-01T00:00:00Z"}, _no_datetime("to")),
    ("validity", {"from": "yesterday"}, _no_datetime("from")),
    ("validity", {"from": "2026-01-01"}, _no_datetime("from")),
    ("validity", {"from": ""}, _no_datetime("from")),
    ("validity", {"from": "99999-01-01T00:00:00Z"}, _no_datetime("from")),
    ("validity", {"to": "+275760-09-13T00:00:00.000Z"}, _no_datetime("to")),
    ("validity", {"to": "2026-01-01T00:00:00+25:00"}, _no_datetime("to")),
    ("validity", {"from": "2026-01-01T00:00:00Z" + " " * 100}, _no_datetime("from")),
    ("validity", {"from": 1767225600}, "The value of '/validity/from' must be string"),
    (
        "validity",
        {"gte": "2026-01-01T00:00:00Z"},
        "The value of '/validity' must NOT have additional property 'gte'",
    ),
]


@pytest.mark.parametrize(("handle", "value", "message"), REFUSED)
async def test_hostile_values_are_refused_by_name(
    stack: Stack, handle: str, value: Any, message: str
) -> None:
    api = await stack.api(PROJECT)
    key = new_key()
    await stack.put_asset(key)
    valid = await _entry(stack, api)

    [imported] = await import_entries(
        api, [image_entry(key, metadata={"title": "A", handle: value})]
    )
    patched = await _set(api, valid["id"], **{handle: value})

    assert imported["status"] == 400, imported
    assert imported["error_details"]["errors"] == [{"metadataProperty": handle, "message": message}]
    assert patched.status_code == 400, patched.text
    assert patched.json()["error_details"] == {"patches.0.value": message}
    assert await _served(stack, api, valid["asset"]["key"]) == SERVED


async def test_validity_belongs_to_the_entry_not_to_a_language(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    key = new_key()
    await stack.put_asset(key)
    valid = await _entry(stack, api)
    translated = image_entry(
        key,
        metadata={"title": "A"},
        translations=[{"locale": "de", "metadata": {"invalid": True, "validity": PAST}}],
    )

    [refused] = await import_entries(api, [translated])
    patched = await api.patch(
        f"/api/{V}/mediaLibrary/{valid['id']}",
        json={
            "patches": [
                {
                    "operation": "setMetadataProperty",
                    "propertyName": "invalid",
                    "value": True,
                    "locale": "de",
                }
            ]
        },
    )

    assert refused["status"] == 400
    assert refused["error_details"]["errors"] == [
        {"metadataProperty": "invalid", "message": "The value of '/invalid' is not translatable",
         "locale": "de"},
        {"metadataProperty": "validity", "message": "The value of '/validity' is not translatable",
         "locale": "de"},
    ]  # fmt: skip
    assert patched.status_code == 400
    assert patched.json()["error_details"] == {
        "patches.0.value": "The value of '/invalid' is not translatable"
    }
    assert await _served(stack, api, valid["asset"]["key"]) == SERVED


async def test_another_projects_entry_is_not_touched(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    record = await _entry(stack, api)
    other = await stack.api("demo")

    attempt = await _set(other, record["id"], invalid=True)

    assert attempt.status_code == 404
    assert await _served(stack, api, record["asset"]["key"]) == SERVED
    assert (
        await other.get(f"/api/{V}/mediaLibrary/serve-image/{record['asset']['key']}")
    ).status_code == 404
