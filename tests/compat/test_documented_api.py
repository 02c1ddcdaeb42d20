"""The original API's documented examples (tests/compat/documented.json, see documented.py for
where each comes from) sent to a live medialib, per endpoint and per API version it exists in.

Each test sends the documented request, changed only where it must name things that exist here
(ids, external ids, storage keys and their sizes, URLs on 127.0.0.1 to import from and to call
back), and compares the answer with the documented one: the status, the same keys (medialib's
additions are listed in `ADDED_KEYS`), the same JSON types, and the same values where they are
not instance-specific (`VALUE_KEYS`). What differs is listed in `KNOWN_DIFFERENCES` and asserted
exactly, so a fix or a new difference fails a test. `MEDIALIB_COMPAT_RECORD=<file>` appends every
comparison to a JSON Lines file instead of asserting (to bring those lists up to date).
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from tests.compat.documented import (
    BY_LABEL,
    ENDPOINTS,
    NOT_SERVED_YET,
    PAGES,
    Comparison,
    added_keys,
    compare,
    differences_text,
    expected_differences,
    rank,
    table,
)
from tests.support import media
from tests.support.entries import (
    STORED_MP4,
    faithful_bytes,
    image_asset,
    image_entry,
    import_entries,
    new_key,
    unique,
)
from tests.support.origin import Origin
from tests.support.stack import Stack
from tests.support.webhooks import Receiver

PROJECT = "demo"
Results = list[tuple[str, Comparison]]


def _body(page: str, index: int) -> Any:
    return copy.deepcopy(PAGES[page]["responses"][index]["body"])


def _answer(response: httpx.Response) -> Any:
    try:
        return {"$status": response.status_code, "$json": response.json()}
    except ValueError:
        return {"$status": response.status_code, "$json": None}


def _check(
    documented_status: int,
    documented: Any,
    response: httpx.Response,
    body: Any = None,
    **subs: str,
) -> Comparison:
    """The response (or `body`, its JSON rearranged) against a documented status and body."""
    result = compare(documented, _answer(response)["$json"] if body is None else body, subs)
    if response.status_code != documented_status:
        result.differences.insert(
            0, f"status: documented {documented_status}, ours {response.status_code}"
        )
    return result


async def _stored(stack: Stack, asset: dict[str, Any]) -> None:
    await stack.put_asset(asset["key"], faithful_bytes(asset))


# --- GET mediaLibrary, GET mediaLibrary/{id}


async def get_entries(
    stack: Stack, api: httpx.AsyncClient, origin: Origin, version: str
) -> Results:
    page = BY_LABEL["GET mediaLibrary"].page(version)
    assert page
    ids = []
    for title in ("An Image", "An Other Image"):
        record = await _stored_image(
            stack, api, systemName=None, externalId=None, metadata={"title": title}
        )
        ids.append(record["id"])
    external = unique("ex")
    await _stored_image(
        stack, api, systemName="externalSystem", externalId=external, metadata={"title": "An Image"}
    )
    by_ids = await api.get(f"/api/{version}/mediaLibrary", params={"ids": ",".join(ids)})
    query = {"externalId": external, "systemName": "externalSystem"}
    by_external = await api.get(f"/api/{version}/mediaLibrary", params=query)
    # the openapi block names the parameter externalIds
    query = {"externalIds": external, "systemName": "externalSystem"}
    by_external_ids = await api.get(f"/api/{version}/mediaLibrary", params=query)
    return [
        ("200 by ids", _check(200, _body(page, 0), by_ids)),
        ("200 by externalId", _check(200, _body(page, 1), by_external)),
        ("200 by externalIds (openapi)", _check(200, _body(page, 1), by_external_ids)),
    ]


async def _stored_image(stack: Stack, api: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    key = new_key()
    await stack.put_asset(key)
    [result] = await import_entries(api, [image_entry(key, **changes)])
    assert result["ok"], result
    record: dict[str, Any] = result["record"]
    return record


async def get_entry(stack: Stack, api: httpx.AsyncClient, origin: Origin, version: str) -> Results:
    record = await _stored_image(
        stack, api, systemName=None, externalId=None, metadata={"title": "An Image"}
    )
    response = await api.get(f"/api/{version}/mediaLibrary/{record['id']}")
    return [("200", _check(200, _body("get-media-library-entry", 0), response))]


# --- PATCH mediaLibrary/{id}

USAGE_LOG_OPERATIONS = ("addUsageLogEntry", "updateUsageLogEntry", "removeUsageLogEntry")


async def _translated_image(stack: Stack, api: httpx.AsyncClient) -> dict[str, Any]:
    key, translated = new_key(), new_key()
    await stack.put_asset(key)
    await stack.put_asset(translated)
    entry = image_entry(key, systemName=None, externalId=None, metadata={"title": "An Image"})
    entry["translations"] = [
        {"locale": "en", "metadata": {"title": "An Image"}, "asset": image_asset(translated)}
    ]
    [result] = await import_entries(api, [entry])
    assert result["ok"], result
    record: dict[str, Any] = result["record"]
    return record


async def patch_entry(
    stack: Stack, api: httpx.AsyncClient, origin: Origin, version: str
) -> Results:
    page = BY_LABEL["PATCH mediaLibrary/{id}"].page(version)
    assert page
    record = await _translated_image(stack, api)
    request = copy.deepcopy(PAGES[page]["request"])
    kept = []
    logged = await _logged(api, record["id"]) if rank(version) >= rank("2026-05") else None
    for patch in request["patches"]:
        if patch["operation"] in USAGE_LOG_OPERATIONS:
            if logged is None:  # added in release-2026-05
                continue
            if patch.get("usageLogEntryId") == "g1x419UgQSS5":  # one the entry has
                patch["usageLogEntryId"] = logged
        if rank(version) < rank("2026-01"):  # added in release-2026-01
            if patch["operation"] == "unrevokeAsset":
                continue
            patch.pop("note", None)
        if patch["operation"] == "replaceAsset":
            # "the file with this key should exist in the configured storage"
            patch["value"]["key"] = new_key("png")
            await stack.put_asset(patch["value"]["key"], faithful_bytes(patch["value"]))
        kept.append(patch)
    request["patches"] = kept
    ok = await api.patch(f"/api/{version}/mediaLibrary/{record['id']}", json=request)

    bad = {"patches": [{"operation": "notExistingOperation"}]}
    refused = await api.patch(f"/api/{version}/mediaLibrary/{record['id']}", json=bad)

    missing = unique("nx")[:12]
    title = {"operation": "setMetadataProperty", "propertyName": "title", "value": "updated title"}
    absent = await api.patch(f"/api/{version}/mediaLibrary/{missing}", json={"patches": [title]})

    other = await _stored_image(stack, api, systemName=None, externalId=None)
    first = await api.patch(f"/api/{version}/mediaLibrary/{other['id']}", json={"patches": [title]})
    assert first.status_code == 200, first.text
    stale = await api.patch(
        f"/api/{version}/mediaLibrary/{other['id']}", json={"version": 1, "patches": [title]}
    )
    return [
        ("200 (the documented patches)", _check(200, _body(page, 0), ok)),
        ("400 unknown operation", _check(400, _body(page, 1), refused)),
        ("404 no such entry", _check(404, _body(page, 2), absent, yLBGtTjWN4ba=missing)),
        ("409 stale version", _check(409, _body(page, 3), stale, **{"Expected 36": "Expected 2"})),
    ]


# --- The usage log (2026-05 on) and the documents that use an entry


async def _logged(api: httpx.AsyncClient, entry_id: str, **value: Any) -> str:
    """A usage log entry the entry has (written through 2026-05, where the log came); its id."""
    asked = {"purpose": "print", "state": "pending"} | value
    add = {"patches": [{"operation": "addUsageLogEntry", "value": asked}]}
    response = await api.patch(f"/api/2026-05/mediaLibrary/{entry_id}", json=add)
    assert response.status_code == 200, response.text
    log = (await api.get(f"/api/2026-05/mediaLibrary/{entry_id}/usageLog")).json()["results"]
    made: str = log[-1]["id"]
    return made


async def usage_log(stack: Stack, api: httpx.AsyncClient, origin: Origin, version: str) -> Results:
    record = await _stored_image(stack, api, systemName=None, externalId=None)
    documented = _body("get-media-library-entry-usage-log", 0)
    shown = documented["results"][0]
    await _logged(
        api,
        record["id"],
        **{k: shown[k] for k in ("url", "state", "params", "purpose", "publicationDate")},
        documentId=shown["documentId"],
        publicationId=shown["publicationId"],
    )
    response = await api.get(f"/api/{version}/mediaLibrary/{record['id']}/usageLog")
    return [("200", _check(200, documented, response))]


async def incoming_documents(
    stack: Stack, api: httpx.AsyncClient, origin: Origin, version: str
) -> Results:
    page = BY_LABEL["GET mediaLibrary/{mediaId}/incomingDocumentReferences"].page(version)
    assert page
    record = await _stored_image(stack, api, systemName=None, externalId=None)
    for document_id in (2, 3):  # the documented documents, as usage log entries name them
        await _logged(api, record["id"], documentId=document_id)
    response = await api.get(
        f"/api/{version}/mediaLibrary/{record['id']}/incomingDocumentReferences"
    )
    shape = "200 (total, cursor, results)" if rank(version) >= rank("2026-01") else "200 (array)"
    return [(shape, _check(200, _body(page, 0), response))]


async def incoming_media(
    stack: Stack, api: httpx.AsyncClient, origin: Origin, version: str
) -> Results:
    """The documented entry names the entry in its li-image property `imageLink`: the project
    `referencing` has that property (the demo project has no property that names entries)."""
    page = BY_LABEL["GET mediaLibrary/{mediaId}/incomingMediaReferences"].page(version)
    assert page
    referencing = await stack.api("referencing")
    record = await _stored_image(stack, referencing, systemName=None, externalId=None)
    link = {"mediaId": record["id"], "width": 640, "height": 480, "mimeType": "image/jpeg"}
    metadata = {"title": "Linking", "imageLink": link}
    await _stored_image(stack, referencing, systemName=None, externalId=None, metadata=metadata)
    response = await referencing.get(
        f"/api/{version}/mediaLibrary/{record['id']}/incomingMediaReferences"
    )
    shape = "200 (total, cursor, results)" if rank(version) >= rank("2026-01") else "200 (array)"
    return [(shape, _check(200, _body(page, 0), response))]


# --- GET mediaLibrary/{id}/keys, GET mediaLibrary/serve-image/{key}


async def entry_keys(stack: Stack, api: httpx.AsyncClient, origin: Origin, version: str) -> Results:
    record = await _translated_image(stack, api)
    response = await api.get(f"/api/{version}/mediaLibrary/{record['id']}/keys")
    return [("200", _check(200, _body("get-media-library-entry-keys", 0), response))]


async def serve_image(
    stack: Stack, api: httpx.AsyncClient, origin: Origin, version: str
) -> Results:
    examples = PAGES["media-library-serve-image"]["openapi_examples"]
    record = await _stored_image(stack, api, systemName=None, externalId=None)
    key = record["asset"]["key"]
    served = await api.get(f"/api/{version}/mediaLibrary/serve-image/{key}")
    binary = Comparison()
    if served.status_code != 200:
        binary.differences.append(f"status: documented 200, ours {served.status_code}")
    if not served.headers.get("content-type", "").startswith("image/"):
        binary.differences.append(
            f"content-type: documented image/*, ours {served.headers.get('content-type')}"
        )
    absent = await api.get(f"/api/{version}/mediaLibrary/serve-image/{new_key()}")
    revoke = {"patches": [{"operation": "revokeAsset"}]}
    revoked = await api.patch(f"/api/{version}/mediaLibrary/{record['id']}", json=revoke)
    assert revoked.status_code == 200, revoked.text
    forbidden = await api.get(f"/api/{version}/mediaLibrary/serve-image/{key}")
    return [
        ("200 binary", binary),
        (
            "403 revoked (openapi)",
            _check(403, examples["403 application/json"]["revokedOrInvalid"], forbidden),
        ),
        (
            "404 no such key (openapi)",
            _check(404, examples["404 application/json"]["imageNotFound"], absent),
        ),
    ]


# --- POST import/mediaLibrary


async def import_library(
    stack: Stack, api: httpx.AsyncClient, origin: Origin, version: str
) -> Results:
    page = BY_LABEL["POST import/mediaLibrary"].page(version)
    assert page
    request = copy.deepcopy(PAGES[page]["request"])
    for entry in request["mediaLibraryEntries"]:
        entry["id"] = unique(entry["id"])
        entry["externalId"] = unique(entry["externalId"])
        for asset in [entry["asset"]] + [t["asset"] for t in entry.get("translations", [])]:
            extension = asset["key"].rsplit(".", 1)[-1]
            asset["key"] = new_key(extension)
            if asset["mimeType"].startswith("video/"):
                asset["size"] = len(STORED_MP4)  # the size of the video stored here
            await _stored(stack, asset)
    created = await api.post(f"/api/{version}/import/mediaLibrary", json=request)

    first = request["mediaLibraryEntries"][0]
    ids = [first["id"], unique("custom-2"), unique("custom-3"), unique("custom-4")]
    keys = [new_key() for _ in ids]
    for key in keys:
        await stack.put_asset(key)
    failing = [
        image_entry(keys[0], id=ids[0]),  # the id exists
        image_entry(
            keys[1], id=ids[1], systemName=first["systemName"], externalId=first["externalId"]
        ),
        image_entry(keys[2], id=ids[2], systemName=None),  # an externalId, no systemName
        image_entry(keys[3], id=ids[3], metadata={"title": 5}),
    ]
    failed = await api.post(
        f"/api/{version}/import/mediaLibrary", json={"mediaLibraryEntries": failing}
    )
    subs = {f"custom-{n}": ids[n - 1] for n in (4, 3, 2, 1)} | {"external-1": first["externalId"]}
    return [
        ("200 created", _check(200, _body(page, 0), created)),
        ("200 failed entries", _check(200, _body(page, 1), failed, **subs)),
    ]


# --- POST import/{kind}, GET import/{kind}/status

BYTES = {"images": media.STORED_JPEG, "files": b"%PDF-1.4\n%%EOF\n", "videos": STORED_MP4}
TYPES = {"images": "image/jpeg", "files": "application/pdf", "videos": "video/mp4"}


def _importer(kind: str) -> Callable[[Stack, httpx.AsyncClient, Origin, str], Awaitable[Results]]:
    async def run(stack: Stack, api: httpx.AsyncClient, origin: Origin, version: str) -> Results:
        return await _import_kind(stack, api, origin, version, kind)

    return run


async def _import_kind(
    stack: Stack, api: httpx.AsyncClient, origin: Origin, version: str, kind: str
) -> Results:
    page, status_page = f"import-{kind}", f"import-{kind}-status"
    receiver = await Receiver().start()
    try:
        documented = copy.deepcopy(PAGES[page]["request"])
        documented["webhook"] = receiver.url()
        [item] = documented[kind]
        # The videos' example names a metadata property `credit` the project here does not have.
        item["metadata"] = {k: v for k, v in item["metadata"].items() if k != "credit"}

        def one(external_id: str, url: str) -> dict[str, Any]:
            made: dict[str, Any] = item | {"id": external_id, "url": url}
            return made

        def good() -> str:
            return origin.file(f"compat/{unique()}", BYTES[kind], TYPES[kind])

        async def job(items: list[dict[str, Any]]) -> httpx.Response:
            return await api.post(f"/api/{version}/import/{kind}", json=documented | {kind: items})

        async def status(job_id: str) -> httpx.Response:
            return await api.get(f"/api/{version}/import/{kind}/status", params={"id": job_id})

        existing, existing_url = unique("ext"), good()
        started = await job([one(existing, existing_url)])
        assert started.status_code == 200, started.text
        assert (await receiver.delivered()).body["id"] == started.json()["id"]

        arrived, gate = asyncio.Event(), asyncio.Event()

        async def held(_: web.Request) -> web.StreamResponse:
            arrived.set()
            await gate.wait()
            return web.Response(body=BYTES[kind], content_type=TYPES[kind])

        held_url = origin.route(f"compat/{unique()}", held)
        missing_url = origin.status(f"compat/{unique()}", 404)
        second_items = [
            one(unique("ext"), held_url),
            one(existing, existing_url),  # the same request again: skipped
            one(unique("ext"), missing_url),
        ]
        second = await job(second_items)
        assert second.status_code == 200, second.text
        second_id = second.json()["id"]
        await arrived.wait()
        running = await status(second_id)
        gate.set()
        assert (await receiver.delivered()).body["id"] == second_id
        finished = await status(second_id)
        # in the documented order (success, skipped, failed), which is the request's here
        order = [i["id"] for i in second_items]
        finished_body = finished.json()
        finished_body[kind].sort(key=lambda i: order.index(i["externalId"]))

        third = await job([one(unique("ext"), origin.status(f"compat/{unique()}", 404))])
        third_id = third.json()["id"]
        assert (await receiver.delivered()).body["id"] == third_id
        failed = await status(third_id)
        started_example = [("200 status: started", _check(200, _body(status_page, 1), running))]
        return [
            (f"200 POST import/{kind}", _check(200, _body(page, 0), started)),
            (
                "200 status: finished, success, skipped, failed",
                _check(200, _body(status_page, 0), finished, body=finished_body),
            ),
            ("200 status: failed", _check(200, _body(status_page, 2), failed)),
            *started_example,
        ]
    finally:
        await receiver.stop()


# --- GET projectConfig, GET health


def _shallow(body: Any) -> Any:
    """A config's top level: nested objects and lists only by their type."""
    return {
        k: ({} if isinstance(v, dict) else [] if isinstance(v, list) else v)
        for k, v in body.items()
    }


async def project_config(
    stack: Stack, api: httpx.AsyncClient, origin: Origin, version: str
) -> Results:
    response = await api.get(f"/api/{version}/projectConfig")
    documented = _shallow(_body("get-project-config", 0))
    result = compare(documented, _shallow(response.json()) if response.status_code == 200 else None)
    if response.status_code != 200:
        result.differences.insert(0, f"status: documented 200, ours {response.status_code}")
    return [("200 (top level)", result)]


async def health(stack: Stack, api: httpx.AsyncClient, origin: Origin, version: str) -> Results:
    response = await api.get(f"/api/{version}/health")
    return [("200", _check(200, _body("health-check", 0), response))]


EXERCISES: dict[str, Callable[[Stack, httpx.AsyncClient, Origin, str], Awaitable[Results]]] = {
    "GET mediaLibrary": get_entries,
    "GET mediaLibrary/{id}": get_entry,
    "PATCH mediaLibrary/{id}": patch_entry,
    "GET mediaLibrary/{id}/usageLog": usage_log,
    "GET mediaLibrary/{mediaId}/incomingDocumentReferences": incoming_documents,
    "GET mediaLibrary/{mediaId}/incomingMediaReferences": incoming_media,
    "GET mediaLibrary/{id}/keys": entry_keys,
    "GET mediaLibrary/serve-image/{key}": serve_image,
    "POST import/mediaLibrary": import_library,
    "POST import/images, GET import/images/status": _importer("images"),
    "POST import/files, GET import/files/status": _importer("files"),
    "POST import/videos, GET import/videos/status": _importer("videos"),
    "GET projectConfig": project_config,
    "GET health": health,
}

CASES = [
    pytest.param(e.label, v, id=f"{e.label}@{v}")
    for e in ENDPOINTS
    if e.label in EXERCISES
    for v in e.versions()
]


def _listed(path: str) -> str:
    """A path with the versions' list key (mediaLibraryEntries or results) as `<list>`."""
    for key in ("mediaLibraryEntries", "results"):
        if path.startswith(key + "["):
            return "<list>" + path.removeprefix(key)
    return path


@pytest.mark.parametrize(("label", "version"), CASES)
async def test_documented_examples(label: str, version: str, stack: Stack, origin: Origin) -> None:
    api = await stack.api(PROJECT)
    results = await EXERCISES[label](stack, api, origin, version)
    record = os.environ.get("MEDIALIB_COMPAT_RECORD")
    if record:
        with Path(record).open("a") as out:
            for example, result in results:
                line = {
                    "label": label,
                    "version": version,
                    "backend": stack.backend,
                    "example": example,
                }
                out.write(
                    json.dumps(line | {"differences": result.differences, "added": result.added})
                    + "\n"
                )
        return
    for example, result in results:
        assert result.differences == expected_differences(label, example, version), (label, example)
        added = sorted(_listed(a) for a in result.added)
        assert added == added_keys(label, example, version), (label, example)


def test_every_endpoint_is_exercised_or_not_served_yet() -> None:
    for endpoint in ENDPOINTS:
        assert (endpoint.label in EXERCISES) != (endpoint.label in NOT_SERVED_YET), endpoint.label


def test_the_table_in_the_docs_is_this_one() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "compatibility.md").read_text()
    assert table() in docs, (
        "run `python -m tests.compat.documented` and update docs/compatibility.md"
    )
    assert differences_text() in docs
