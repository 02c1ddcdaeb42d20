"""The usage log (API version 2026-05 on): PATCH addUsageLogEntry, updateUsageLogEntry and
removeUsageLogEntry, GET /mediaLibrary/{id}/usageLog, the project's usage purposes, and
GET /mediaLibrary/{id}/incomingDocumentReferences answered from the documents the log names.
Hostile values are at the end (HOSTILE_PATCHES, HOSTILE_READS and the tests after them)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from medialib.auth.tokens import READ
from tests.support.entries import image_entry, import_entries, new_key, stored_image, unique
from tests.support.stack import Stack

V = "2026-05"
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ID = re.compile(r"^[A-Za-z0-9]{12}$")


async def _patch(
    api: httpx.AsyncClient,
    entry_id: str,
    *patches: dict[str, Any],
    api_version: str = V,
    **body: Any,
) -> httpx.Response:
    return await api.patch(
        f"/api/{api_version}/mediaLibrary/{entry_id}", json={"patches": list(patches), **body}
    )


def _add(**value: Any) -> dict[str, Any]:
    return {"operation": "addUsageLogEntry", "value": value}


def _update(usage_id: str, oldValue: Any = None, **value: Any) -> dict[str, Any]:
    patch = {"operation": "updateUsageLogEntry", "usageLogEntryId": usage_id, "value": value}
    return patch if oldValue is None else {**patch, "oldValue": oldValue}


def _remove(usage_id: str) -> dict[str, Any]:
    return {"operation": "removeUsageLogEntry", "usageLogEntryId": usage_id}


async def _log(api: httpx.AsyncClient, entry_id: str, version: str = V) -> list[dict[str, Any]]:
    response = await api.get(f"/api/{version}/mediaLibrary/{entry_id}/usageLog")
    assert response.status_code == 200, response.text
    assert list(response.json()) == ["results"]
    results: list[dict[str, Any]] = response.json()["results"]
    return results


async def _entry(api: httpx.AsyncClient, entry_id: str) -> dict[str, Any]:
    response = await api.get(f"/api/{V}/mediaLibrary/{entry_id}")
    assert response.status_code == 200, response.text
    entry: dict[str, Any] = response.json()
    return entry


async def _logged(
    api: httpx.AsyncClient, entry_id: str, **value: Any
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Adds a usage log entry; returns it and the whole log."""
    before = {usage["id"] for usage in await _log(api, entry_id)}
    response = await _patch(api, entry_id, _add(**value))
    assert response.status_code == 200, response.text
    log = await _log(api, entry_id)
    [added] = [usage for usage in log if usage["id"] not in before]
    return added, log


# --- Adding, changing, removing ---------------------------------------------------------------


async def test_an_added_entry_is_pending_by_default_and_leaves_the_entry_as_it_was(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)

    response = await _patch(api, record["id"], _add(purpose="print"))

    assert response.status_code == 200, response.text
    assert response.json() == {"status": 200}
    [usage] = await _log(api, record["id"])
    assert set(usage) == {"id", "state", "params", "purpose", "reportingDate"}
    assert ID.match(usage["id"])
    assert usage["state"] == "pending"
    assert usage["params"] == {}
    assert usage["purpose"] == "print"
    assert TIME.match(usage["reportingDate"])
    entry = await _entry(api, record["id"])
    assert entry["version"] == record["version"] == 1
    assert entry["updatedAt"] == record["updatedAt"]


async def test_a_confirmed_entry_says_everything_it_was_given(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)

    usage, _ = await _logged(
        api,
        record["id"],
        state="confirmed",
        purpose="web",
        publicationDate="2026-04-02T13:34:26.353Z",
        url="https://example.com/article/slug-121",
        params={"medium": "Internet"},
        documentId=121,
        publicationId=110,
    )

    assert list(usage) == [
        "id",
        "url",
        "state",
        "params",
        "purpose",
        "documentId",
        "publicationId",
        "reportingDate",
        "publicationDate",
    ]
    assert usage | {"id": "x", "reportingDate": "x"} == {
        "id": "x",
        "url": "https://example.com/article/slug-121",
        "state": "confirmed",
        "params": {"medium": "Internet"},
        "purpose": "web",
        "documentId": 121,
        "publicationId": 110,
        "reportingDate": "x",
        "publicationDate": "2026-04-02T13:34:26.353Z",
    }


async def test_a_publication_date_in_another_zone_is_said_in_utc(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)

    usage, _ = await _logged(
        api, record["id"], purpose="print", publicationDate="2026-05-01T13:00:00.123456+02:00"
    )

    assert usage["publicationDate"] == "2026-05-01T11:00:00.123Z"


async def test_several_entries_are_listed_in_the_order_they_were_reported(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)

    response = await _patch(
        api, record["id"], _add(purpose="print"), _add(purpose="web"), _add(purpose="newsletter")
    )

    assert response.status_code == 200, response.text
    log = await _log(api, record["id"])
    assert sorted(usage["purpose"] for usage in log) == ["newsletter", "print", "web"]
    assert len({usage["id"] for usage in log}) == 3
    assert [u["reportingDate"] for u in log] == sorted(u["reportingDate"] for u in log)


async def test_update_changes_what_it_is_given_and_keeps_the_rest(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)
    usage, _ = await _logged(
        api, record["id"], purpose="print", url="https://example.com/a", params={"page": 3}
    )

    response = await _patch(
        api,
        record["id"],
        _update(usage["id"], state="confirmed", publicationDate="2026-05-01T11:00:00.000Z"),
    )

    assert response.status_code == 200, response.text
    [changed] = await _log(api, record["id"])
    assert changed == usage | {"state": "confirmed", "publicationDate": "2026-05-01T11:00:00.000Z"}
    assert (await _entry(api, record["id"]))["version"] == 1


async def test_update_with_null_removes_a_field(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)
    usage, _ = await _logged(api, record["id"], purpose="print", url="https://example.com/a")

    response = await _patch(api, record["id"], _update(usage["id"], state="pending", url=None))

    assert response.status_code == 200, response.text
    [changed] = await _log(api, record["id"])
    assert "url" not in changed
    assert changed["purpose"] == "print"


async def test_update_proceeds_when_the_old_value_matches(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)
    usage, _ = await _logged(api, record["id"], purpose="print", params={"page": 3})

    # The whole entry as read, a part of it, and nothing (the documented example's `{}`).
    for old in (usage, {"state": "pending", "params": {"page": 3}}, {}):
        response = await _patch(
            api,
            record["id"],
            _update(usage["id"], oldValue=old, state="pending", purpose="print"),
        )
        assert response.status_code == 200, (old, response.text)
    # A value read and sent back as it is: its id and reportingDate are the server's.
    again = await _patch(api, record["id"], _update(usage["id"], **usage))
    assert again.status_code == 200, again.text
    assert await _log(api, record["id"]) == [usage]


async def test_update_is_a_conflict_when_the_old_value_does_not_match(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)
    usage, _ = await _logged(api, record["id"], purpose="print", params={"page": 3})
    before = await stack.snapshot(project)

    mismatches: list[dict[str, Any]] = [
        {"state": "confirmed"},
        {"purpose": "web"},
        {"params": {"page": 4}},
        {"params": {}},
        {"url": "https://example.com/elsewhere"},
        {"reportingDate": "2020-01-01T00:00:00.000Z"},
        {"reportingDate": "not a date"},
        {"publicationDate": "2026-05-01T11:00:00.000Z"},
        {"id": "AAAAAAAAAAAA"},
        {"documentId": 1},
        {"unknown": 1},
        {"params": {"page": True}} | {"state": "pending"},
    ]
    for old in mismatches:
        response = await _patch(
            api, record["id"], _update(usage["id"], oldValue=old, state="confirmed", url=None)
        )
        assert response.status_code == 409, (old, response.text)
        details = response.json()["error_details"]
        assert details["name"] == "Conflict"
        assert usage["id"] in details["message"]
    assert await stack.snapshot(project) == before


async def test_remove_takes_the_entry_out_of_the_log(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)
    first, _ = await _logged(api, record["id"], purpose="print")
    second, _ = await _logged(api, record["id"], purpose="web")

    response = await _patch(api, record["id"], _remove(first["id"]))

    assert response.status_code == 200, response.text
    assert await _log(api, record["id"]) == [second]
    again = await _patch(api, record["id"], _remove(first["id"]))
    assert again.status_code == 400
    assert again.json()["error_details"] == {
        "patches.0.usageLogEntryId": f"no usage log entry '{first['id']}' on this entry"
    }


async def test_usage_log_operations_go_with_the_patch_all_or_nothing(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)
    usage, _ = await _logged(api, record["id"], purpose="print")
    before = await stack.snapshot(project)

    failing = await _patch(
        api,
        record["id"],
        _add(purpose="web"),
        _remove(usage["id"]),
        {"operation": "setMetadataProperty", "propertyName": "nope", "value": 1},
    )
    stale = await _patch(api, record["id"], _add(purpose="web"), version="7")

    assert failing.status_code == 400
    assert stale.status_code == 409
    assert await stack.snapshot(project) == before
    mixed = await _patch(
        api,
        record["id"],
        {"operation": "setMetadataProperty", "propertyName": "caption", "value": "Used"},
        _add(purpose="web"),
        version="1",
    )
    assert mixed.status_code == 200, mixed.text
    assert len(await _log(api, record["id"])) == 2
    entry = await _entry(api, record["id"])
    assert entry["version"] == 2
    assert entry["metadata"]["caption"] == "Used"


async def test_deleting_an_entry_removes_its_usage_log(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    entry_id = unique("used")
    key = new_key()
    await stack.put_asset(key)
    [made] = await import_entries(api, [image_entry(key, id=entry_id)])
    assert made["ok"], made
    await _logged(api, entry_id, purpose="print", documentId=5)

    assert (await api.delete(f"/api/{V}/mediaLibrary/{entry_id}")).status_code == 200

    gone = await api.get(f"/api/{V}/mediaLibrary/{entry_id}/usageLog")
    assert gone.status_code == 404
    # (The deleted entry's object may be deleted by now: the new one has its own.)
    other_key = new_key()
    await stack.put_asset(other_key)
    [again] = await import_entries(api, [image_entry(other_key, id=entry_id)])
    assert again["ok"], again
    assert await _log(api, entry_id) == []
    references = await api.get(f"/api/{V}/mediaLibrary/{entry_id}/incomingDocumentReferences")
    assert references.json() == {"total": 0, "cursor": None, "results": []}


# --- Versions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v1", "beta", "2025-03", "2025-11", "2026-01", "2026-03"])
async def test_versions_before_2026_05_have_no_usage_log(
    stack: Stack, project: str, version: str
) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)
    usage, _ = await _logged(api, record["id"], purpose="print")
    before = await stack.snapshot(project)

    read = await api.get(f"/api/{version}/mediaLibrary/{record['id']}/usageLog")
    patches = [
        await _patch(api, record["id"], patch, api_version=version)
        for patch in (
            _add(purpose="web"),
            _update(usage["id"], state="confirmed"),
            _remove(usage["id"]),
        )
    ]

    assert read.status_code == 404
    assert read.json()["error_details"] == {
        "message": "This endpoint needs API version 2026-05 or later."
    }
    for patch, response in zip(("add", "update", "remove"), patches, strict=True):
        assert response.status_code == 400, response.text
        operation = f"{patch}UsageLogEntry"
        assert response.json()["error_details"]["patches.0.operation"] == (
            f'No enum match for: "{operation}"'
        )
    assert await stack.snapshot(project) == before


@pytest.mark.parametrize("version", ["2026-05", "2026-07"])
async def test_versions_from_2026_05_have_the_usage_log(
    stack: Stack, project: str, version: str
) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)

    response = await _patch(api, record["id"], _add(purpose="print"), api_version=version)

    assert response.status_code == 200, response.text
    assert len(await _log(api, record["id"], version)) == 1


# --- Purposes ---------------------------------------------------------------------------------


async def test_a_project_without_purposes_takes_any_handle(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)

    usage, _ = await _logged(api, record["id"], purpose="anything-at-all", params={"x": [1]})

    assert usage["purpose"] == "anything-at-all"


async def test_a_project_with_purposes_takes_only_those(stack: Stack) -> None:
    api = await stack.api("purposeful")
    record = await stored_image(stack, api)
    before = await stack.snapshot("purposeful")

    unknown = await _patch(api, record["id"], _add(purpose="radio"))
    bad_params = await _patch(api, record["id"], _add(purpose="print", params={"page": "one"}))
    extra_params = await _patch(api, record["id"], _add(purpose="print", params={"pages": 1}))

    assert unknown.status_code == 400
    assert unknown.json()["error_details"] == {
        "patches.0.value.purpose": "must be one of: print, web"
    }
    assert bad_params.status_code == 400
    assert bad_params.json()["error_details"] == {
        "patches.0.value.params": "The value of '/page' must be integer"
    }
    assert extra_params.status_code == 400
    assert "patches.0.value.params" in extra_params.json()["error_details"]
    assert await stack.snapshot("purposeful") == before

    usage, _ = await _logged(api, record["id"], purpose="print", params={"page": 7})
    unknown_update = await _patch(
        api, record["id"], _update(usage["id"], state="pending", purpose="tv")
    )
    assert unknown_update.status_code == 400
    assert "patches.0.value.purpose" in unknown_update.json()["error_details"]
    web, _ = await _logged(api, record["id"], purpose="web", params={"anything": True})
    assert web["params"] == {"anything": True}


async def test_the_project_config_shows_the_purposes(stack: Stack) -> None:
    api = await stack.api("purposeful")

    response = await api.get(f"/api/{V}/projectConfig")

    assert response.status_code == 200, response.text
    purposes = response.json()["mediaCenter"]["usagePurposes"]
    assert [p["handle"] for p in purposes] == ["web", "print"]
    assert purposes[1]["paramsSchema"] == [
        {"handle": "page", "type": "li-integer", "config": {"min": 1.0}}
    ]


# --- incomingDocumentReferences ---------------------------------------------------------------


async def test_document_references_are_the_documents_the_log_names(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)
    entry_id = record["id"]
    web, _ = await _logged(api, entry_id, purpose="web", documentId=121, publicationId=110)
    teaser, _ = await _logged(api, entry_id, purpose="teaser", documentId=121)
    await _logged(api, entry_id, purpose="print", documentId=7)
    await _logged(api, entry_id, purpose="print")  # no document

    new = await api.get(f"/api/{V}/mediaLibrary/{entry_id}/incomingDocumentReferences")
    old = await api.get(f"/api/2025-11/mediaLibrary/{entry_id}/incomingDocumentReferences")

    def reference(usage: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": entry_id,
            "type": "image",
            "location": "usage-log",
            "usageLogEntryId": usage["id"],
        }

    assert new.status_code == 200, new.text
    body = new.json()
    assert list(body) == ["total", "cursor", "results"]
    assert body["total"] == 2
    assert body["cursor"] is None
    assert [document["id"] for document in body["results"]] == [7, 121]
    # (Two reported in the same millisecond come in either order.)
    assert body["results"][1]["id"] == 121
    references = body["results"][1]["references"]
    assert sorted(references, key=str) == sorted([reference(web), reference(teaser)], key=str)
    assert old.status_code == 200, old.text
    assert old.json() == body["results"]


@pytest.mark.parametrize("version", ["v1", "beta", "2025-03", "2025-11"])
async def test_document_references_are_a_bare_array_up_to_2025_11(
    stack: Stack, project: str, version: str
) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)

    response = await api.get(
        f"/api/{version}/mediaLibrary/{record['id']}/incomingDocumentReferences"
    )

    assert response.status_code == 200, response.text
    assert response.json() == []


async def test_document_references_come_a_page_at_a_time(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)
    documents = [3, 1, 5, 2, 4]
    response = await _patch(
        api, record["id"], *(_add(purpose="web", documentId=d) for d in documents)
    )
    assert response.status_code == 200, response.text
    url = f"/api/{V}/mediaLibrary/{record['id']}/incomingDocumentReferences"

    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"after": cursor} if cursor else {})
        page = (await api.get(url, params=params)).json()
        assert page["total"] == 5
        seen += [document["id"] for document in page["results"]]
        pages += 1
        cursor = page["cursor"]
        if cursor is None:
            break
    by_offset = await api.get(url, params={"limit": 2, "offset": 3})
    old_offset = await api.get(url.replace(V, "2025-11"), params={"limit": 100, "offset": 4})

    assert seen == [1, 2, 3, 4, 5]
    assert pages == 3
    assert [d["id"] for d in by_offset.json()["results"]] == [4, 5]
    assert [d["id"] for d in old_offset.json()] == [5]
    default = (await api.get(url)).json()
    assert len(default["results"]) == 5


# --- Hostile input -----------------------------------------------------------------------------

PLACEHOLDER = "{usage}"  # stands for a usage log entry that exists

# (name, patch, the field the 400 names)
HOSTILE_PATCHES: list[tuple[str, dict[str, Any], str]] = [
    ("value a string", {"operation": "addUsageLogEntry", "value": "print"}, "patches.0.value"),
    ("value a list", {"operation": "addUsageLogEntry", "value": [1]}, "patches.0.value"),
    ("value missing", {"operation": "addUsageLogEntry"}, "patches.0.value"),
    ("no purpose", _add(state="pending"), "patches.0.value.purpose"),
    ("purpose a number", _add(purpose=1), "patches.0.value.purpose"),
    ("purpose empty", _add(purpose=""), "patches.0.value.purpose"),
    ("purpose 101 characters", _add(purpose="p" * 101), "patches.0.value.purpose"),
    ("purpose an object", _add(purpose={"handle": "print"}), "patches.0.value.purpose"),
    ("state unknown", _add(purpose="print", state="done"), "patches.0.value.state"),
    ("state a boolean", _add(purpose="print", state=True), "patches.0.value.state"),
    ("url of 10,000 characters", _add(purpose="print", url="h" * 10_000), "patches.0.value.url"),
    ("url a number", _add(purpose="print", url=5), "patches.0.value.url"),
    ("url empty", _add(purpose="print", url=""), "patches.0.value.url"),
    ("params a list", _add(purpose="print", params=[1, 2]), "patches.0.value.params"),
    ("params a string", _add(purpose="print", params="x"), "patches.0.value.params"),
    (
        "params huge",
        _add(purpose="print", params={f"k{i}": "v" * 100 for i in range(200)}),
        "patches.0.value.params",
    ),
    (
        "params deep",
        _add(purpose="print", params={"a": [[[[[[[[[[{"b": "c" * 11_000}]]]]]]]]]]}),
        "patches.0.value.params",
    ),
    (
        "confirmed without a publication date",
        _add(purpose="print", state="confirmed"),
        "patches.0.value.publicationDate",
    ),
    (
        "publication date not a date",
        _add(purpose="print", publicationDate="yesterday"),
        "patches.0.value.publicationDate",
    ),
    (
        "publication date a number",
        _add(purpose="print", publicationDate=1_777_777_777),
        "patches.0.value.publicationDate",
    ),
    (
        "publication date out of the calendar",
        _add(purpose="print", publicationDate="0001-01-01T00:00:00+14:00"),
        "patches.0.value.publicationDate",
    ),
    (
        "publication date too long",
        _add(purpose="print", publicationDate="2026-05-01T11:00:00" + "0" * 100),
        "patches.0.value.publicationDate",
    ),
    ("documentId negative", _add(purpose="print", documentId=-1), "patches.0.value.documentId"),
    ("documentId zero", _add(purpose="print", documentId=0), "patches.0.value.documentId"),
    ("documentId a string", _add(purpose="print", documentId="12"), "patches.0.value.documentId"),
    ("documentId 2^60", _add(purpose="print", documentId=2**60), "patches.0.value.documentId"),
    ("documentId a float", _add(purpose="print", documentId=1.5), "patches.0.value.documentId"),
    (
        "publicationId a boolean",
        _add(purpose="print", publicationId=True),
        "patches.0.value.publicationId",
    ),
    ("unknown field in value", _add(purpose="print", userId="me"), "patches.0.value.userId"),
    (
        "usageLogEntryId on add",
        {**_add(purpose="print"), "usageLogEntryId": PLACEHOLDER},
        "patches.0.usageLogEntryId",
    ),
    ("oldValue on add", {**_add(purpose="print"), "oldValue": {}}, "patches.0.oldValue"),
    ("oldValue on remove", {**_remove(PLACEHOLDER), "oldValue": {}}, "patches.0.oldValue"),
    (
        "update without usageLogEntryId",
        {"operation": "updateUsageLogEntry", "value": {"state": "pending"}},
        "patches.0.usageLogEntryId",
    ),
    ("update without state", _update(PLACEHOLDER, purpose="web"), "patches.0.value.state"),
    (
        "update without value",
        _remove(PLACEHOLDER) | {"operation": "updateUsageLogEntry"},
        "patches.0.value",
    ),
    (
        "update confirmed without a publication date",
        _update(PLACEHOLDER, state="confirmed"),
        "patches.0.value.publicationDate",
    ),
    (
        "update with an unknown usageLogEntryId",
        _update("AAAAAAAAAAAA", state="pending"),
        "patches.0.usageLogEntryId",
    ),
    (
        "update with a malformed usageLogEntryId",
        _update("../../etc/passwd", state="pending"),
        "patches.0.usageLogEntryId",
    ),
    (
        "update with a 10,000-character usageLogEntryId",
        _update("a" * 10_000, state="pending"),
        "patches.0.usageLogEntryId",
    ),
    (
        "update with an empty usageLogEntryId",
        _update("", state="pending"),
        "patches.0.usageLogEntryId",
    ),
    (
        "usageLogEntryId a number",
        {"operation": "removeUsageLogEntry", "usageLogEntryId": 12},
        "patches.0.usageLogEntryId",
    ),
    ("oldValue a list", _update(PLACEHOLDER, oldValue=[1], state="pending"), "patches.0.oldValue"),
    (
        "oldValue a string",
        _update(PLACEHOLDER, oldValue="x", state="pending"),
        "patches.0.oldValue",
    ),
    (
        "remove without usageLogEntryId",
        {"operation": "removeUsageLogEntry"},
        "patches.0.usageLogEntryId",
    ),
    ("remove an unknown usageLogEntryId", _remove("zzzzzzzzzzzz"), "patches.0.usageLogEntryId"),
    ("remove a unicode usageLogEntryId", _remove("ünïcödé"), "patches.0.usageLogEntryId"),
    ("params with NUL", _add(purpose="print", params={"a": "\x00"}), ""),
    ("purpose with NUL", _add(purpose="pr\x00int"), ""),
]


def _placed(value: Any, usage_id: str) -> Any:
    if value == PLACEHOLDER:
        return usage_id
    if isinstance(value, dict):
        return {k: _placed(v, usage_id) for k, v in value.items()}
    return value


@pytest.mark.parametrize(
    ("patch", "field"), [pytest.param(p, f, id=n) for n, p, f in HOSTILE_PATCHES]
)
async def test_hostile_usage_log_patches_are_a_400_naming_the_field(
    stack: Stack, project: str, patch: dict[str, Any], field: str
) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)
    usage, _ = await _logged(api, record["id"], purpose="print")
    before = await stack.snapshot(project)

    response = await _patch(api, record["id"], _placed(patch, usage["id"]))

    assert response.status_code == 400, response.text
    body = response.json()
    assert body["status"] == 400
    assert body["error"] == "Bad Request"
    details = body["error_details"]
    assert details
    if field:
        assert field in details, details
    assert await stack.snapshot(project) == before


async def test_another_projects_entry_and_usage_log_entries_are_not_there(
    stack: Stack, project: str
) -> None:
    victim = await stack.api("victim")
    attacker = await stack.api(project)
    theirs = await stored_image(stack, victim)
    their_usage, _ = await _logged(victim, theirs["id"], purpose="print", documentId=9)
    mine = await stored_image(stack, attacker)
    my_usage, _ = await _logged(attacker, mine["id"], purpose="print")
    other_entry = await stored_image(stack, attacker)
    victim_before = await stack.snapshot("victim")
    before = await stack.snapshot(project)

    answers = [
        await attacker.get(f"/api/{V}/mediaLibrary/{theirs['id']}/usageLog"),
        await attacker.get(f"/api/{V}/mediaLibrary/{theirs['id']}/incomingDocumentReferences"),
        await _patch(attacker, theirs["id"], _add(purpose="print")),
        await _patch(attacker, theirs["id"], _remove(their_usage["id"])),
        await _patch(attacker, theirs["id"], _update(their_usage["id"], state="pending")),
    ]
    # Their usage log entry's id on my own entry, and my entry's on my other entry.
    crossed = [
        await _patch(attacker, mine["id"], _remove(their_usage["id"])),
        await _patch(attacker, mine["id"], _update(their_usage["id"], state="pending")),
        await _patch(attacker, other_entry["id"], _remove(my_usage["id"])),
    ]

    for answer in answers:
        assert answer.status_code == 404, answer.text
        assert "does not exist" in answer.json()["error_details"]["message"]
    for answer in crossed:
        assert answer.status_code == 400, answer.text
        assert "patches.0.usageLogEntryId" in answer.json()["error_details"]
    assert await stack.snapshot("victim") == victim_before
    assert await stack.snapshot(project) == before


async def test_a_read_only_token_reads_the_log_and_cannot_change_it(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)
    usage, log = await _logged(api, record["id"], purpose="print")
    reader = stack.client(await stack.token(project, scopes=(READ,)))
    before = await stack.snapshot(project)

    answers = [
        await _patch(reader, record["id"], _add(purpose="print")),
        await _patch(reader, record["id"], _update(usage["id"], state="pending")),
        await _patch(reader, record["id"], _remove(usage["id"])),
    ]

    for answer in answers:
        assert answer.status_code == 403, answer.text
    assert await _log(reader, record["id"]) == log
    assert await stack.snapshot(project) == before


# (path, query string, the parameter the 400 names)
HOSTILE_READS: list[tuple[str, str, str]] = [
    ("incomingDocumentReferences", "limit=0", "limit"),
    ("incomingDocumentReferences", "limit=101", "limit"),
    ("incomingDocumentReferences", "limit=abc", "limit"),
    ("incomingDocumentReferences", "limit=99999999999999999999999", "limit"),
    ("incomingDocumentReferences", "offset=-1", "offset"),
    ("incomingDocumentReferences", "offset=1e9", "offset"),
    ("incomingDocumentReferences", "after=nope", "after"),
    ("incomingDocumentReferences", "after=ZHwtMQ", "after"),  # "d|-1"
    ("incomingDocumentReferences", "after=eHwx", "after"),  # "x|1"
    ("incomingDocumentReferences", "after=ZHzZoQ", "after"),  # "d|" and a non-ASCII digit
    ("incomingDocumentReferences", "after=" + "A" * 10_000, "after"),
    ("incomingDocumentReferences", "after=%00", "after"),
]


@pytest.mark.parametrize(("path", "query", "field"), HOSTILE_READS)
async def test_hostile_reads_are_refused(
    stack: Stack, project: str, path: str, query: str, field: str
) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)

    response = await api.get(f"/api/{V}/mediaLibrary/{record['id']}/{path}?{query}")

    assert response.status_code == 400, response.text
    assert field in response.json()["error_details"]


@pytest.mark.parametrize(
    "entry_id", ["nope", "x" * 33, "x" * 300, "%C3%BC", "..%2F..%2Fetc", "a%00b", "-"]
)
@pytest.mark.parametrize("path", ["usageLog", "incomingDocumentReferences"])
async def test_unknown_or_malformed_entry_ids_are_a_404(
    stack: Stack, project: str, entry_id: str, path: str
) -> None:
    api = await stack.api(project)

    response = await api.get(f"/api/{V}/mediaLibrary/{entry_id}/{path}")

    assert response.status_code == 404, response.text
