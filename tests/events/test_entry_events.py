"""Change events (issue 12, item 7): a project's config subscribes webhooks to entry events;
each change sends its event, signed, in order per entry; a rolled-back change sends nothing; and
GET /events/deliveries shows every delivery with its attempts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from medialib.library.events import SUBSCRIBABLE
from medialib.library.projects import new_webhook_secret
from tests.support.entries import image_entry, import_entries, new_key
from tests.support.stack import DEMO_MEDIA_TYPES, Stack
from tests.support.webhooks import Delivery, Receiver

LIBRARY = "/api/2026-05/mediaLibrary"


@dataclass
class Subscribed:
    stack: Stack
    api: httpx.AsyncClient
    everything: Receiver  # subscribed to every entry event
    deletes: Receiver  # subscribed to deletes only


@pytest.fixture
async def subscribed(make_stack: Callable[..., Awaitable[Stack]]) -> AsyncIterator[Subscribed]:
    secret = new_webhook_secret()
    everything = await Receiver(secret=secret).start()
    deletes = await Receiver(secret=secret).start()
    project = {
        "handle": "newsroom",
        "mediaTypes": DEMO_MEDIA_TYPES,
        "webhookSecret": secret,
        "webhooks": [
            {"url": everything.url("events"), "events": list(SUBSCRIBABLE)},
            {"url": deletes.url("deletes"), "events": ["mediaLibraryEntry.delete"]},
        ],
    }
    stack = await make_stack(config={"projects": [project]})
    yield Subscribed(stack, await stack.api("newsroom"), everything, deletes)
    await everything.stop()
    await deletes.stop()


async def created(subscribed: Subscribed) -> dict[str, Any]:
    key = new_key()
    await subscribed.stack.put_asset(key)
    [result] = await import_entries(subscribed.api, [image_entry(key)])
    assert result["ok"], result
    record: dict[str, Any] = result["record"]
    return record


async def patched(subscribed: Subscribed, entry_id: str, version: int, *patches: Any) -> int:
    body = {"version": version, "patches": list(patches)}
    response = await subscribed.api.patch(f"{LIBRARY}/{entry_id}", json=body)
    return response.status_code


def check(delivery: Delivery, event: str, media_id: str) -> None:
    assert delivery.verified
    body = delivery.body
    assert body["event"] == event
    assert body["mediaId"] == media_id
    assert body["projectId"] == "newsroom"
    assert body["deliveryId"] == delivery.headers["webhook-id"]
    assert body["occurredAt"].endswith("Z")


async def test_every_change_sends_its_event_in_order(subscribed: Subscribed) -> None:
    record = await created(subscribed)
    entry_id = record["id"]
    title = {"operation": "setMetadataProperty", "propertyName": "title", "value": "New"}
    assert await patched(subscribed, entry_id, 1, title) == 200
    assert await patched(subscribed, entry_id, 2, {"operation": "archive"}) == 200
    assert await patched(subscribed, entry_id, 3, {"operation": "revokeAsset"}) == 200
    assert await patched(subscribed, entry_id, 4, {"operation": "unrevokeAsset"}) == 200
    assert (await subscribed.api.delete(f"{LIBRARY}/{entry_id}")).status_code == 200

    sent = ["create", "update", "archive", "revoke", "unrevoke", "delete"]
    for event in sent:
        check(await subscribed.everything.next(), f"mediaLibraryEntry.{event}", entry_id)
    check(await subscribed.deletes.next(), "mediaLibraryEntry.delete", entry_id)
    assert len(subscribed.deletes.deliveries) == 1
    ids = [d.headers["webhook-id"] for d in subscribed.everything.deliveries]
    assert len(set(ids)) == len(ids)


async def test_a_rolled_back_change_sends_nothing(subscribed: Subscribed) -> None:
    record = await created(subscribed)
    check(await subscribed.everything.next(), "mediaLibraryEntry.create", record["id"])
    archive_then_fail = [
        {"operation": "archive"},
        {"operation": "setMetadataProperty", "propertyName": "nope", "value": 1},
    ]
    assert await patched(subscribed, record["id"], 1, *archive_then_fail) == 400
    assert await patched(subscribed, record["id"], 7, {"operation": "archive"}) == 409
    [refused] = await import_entries(subscribed.api, [image_entry("2026/01/01/missing.jpeg")])
    assert not refused["ok"]

    assert await patched(subscribed, record["id"], 1, {"operation": "revokeAsset"}) == 200

    # The next delivery is the revoke: nothing was sent for the refused changes.
    check(await subscribed.everything.next(), "mediaLibraryEntry.revoke", record["id"])


async def test_a_failing_receiver_holds_the_entrys_later_events(subscribed: Subscribed) -> None:
    subscribed.everything.failures = [500, 503]
    record = await created(subscribed)
    assert await patched(subscribed, record["id"], 1, {"operation": "archive"}) == 200

    answered = [await subscribed.everything.next() for _ in range(4)]

    assert [d.body["event"] for d in answered] == [
        "mediaLibraryEntry.create",
        "mediaLibraryEntry.create",
        "mediaLibraryEntry.create",
        "mediaLibraryEntry.archive",
    ]
    assert [d.answered for d in answered] == [500, 503, 204, 204]

    listed = await subscribed.api.get("/api/2026-05/events/deliveries")
    assert listed.status_code == 200, listed.text
    page = listed.json()
    create = next(d for d in page["deliveries"] if d["event"] == "mediaLibraryEntry.create")
    assert create["subject"] == record["id"]
    assert create["url"] == subscribed.everything.url("events")
    assert [a["statusCode"] for a in create["attempts"]] == [500, 503, 204]
    assert create["attempts"][0]["error"] == "HTTP 500"
    assert create["lastError"] is None
    failed = await subscribed.api.get("/api/2026-05/events/deliveries", params={"state": "failed"})
    assert failed.json() == {"deliveries": [], "cursor": None}
    paged = await subscribed.api.get("/api/2026-05/events/deliveries", params={"limit": 1})
    assert len(paged.json()["deliveries"]) == 1
    assert paged.json()["cursor"] is not None


async def test_a_config_with_a_bad_subscription_is_refused(
    make_stack: Callable[..., Awaitable[Stack]],
) -> None:
    project = {
        "handle": "newsroom",
        "mediaTypes": DEMO_MEDIA_TYPES,
        "webhooks": [{"url": "http://127.0.0.1/x", "events": ["mediaLibraryEntry.explode"]}],
    }
    with pytest.raises(Exception, match="webhooks"):
        await make_stack(config={"projects": [project]})


async def test_each_usage_log_change_sends_an_update_and_changes_nothing_else(
    subscribed: Subscribed,
) -> None:
    record = await created(subscribed)
    entry_id = record["id"]
    check(await subscribed.everything.next(), "mediaLibraryEntry.create", entry_id)
    add = {"operation": "addUsageLogEntry", "value": {"purpose": "print"}}

    assert await patched(subscribed, entry_id, 1, add) == 200
    check(await subscribed.everything.next(), "mediaLibraryEntry.update", entry_id)
    log = await subscribed.api.get(f"{LIBRARY}/{entry_id}/usageLog")
    [usage] = log.json()["results"]
    update = {
        "operation": "updateUsageLogEntry",
        "usageLogEntryId": usage["id"],
        "value": {"state": "pending", "url": "https://example.com/a"},
    }
    # The entry's version is still 1: the usage log is beside it.
    assert await patched(subscribed, entry_id, 1, update) == 200
    check(await subscribed.everything.next(), "mediaLibraryEntry.update", entry_id)
    remove = {"operation": "removeUsageLogEntry", "usageLogEntryId": usage["id"]}
    # A refused one sends nothing.
    assert await patched(subscribed, entry_id, 1, remove, {"operation": "nope"}) == 400
    assert await patched(subscribed, entry_id, 1, remove) == 200
    check(await subscribed.everything.next(), "mediaLibraryEntry.update", entry_id)
    # One change of the entry and its log together is one update.
    title = {"operation": "setMetadataProperty", "propertyName": "title", "value": "New"}
    assert await patched(subscribed, entry_id, 1, title, add) == 200
    check(await subscribed.everything.next(), "mediaLibraryEntry.update", entry_id)
    assert await patched(subscribed, entry_id, 2, {"operation": "archive"}) == 200
    check(await subscribed.everything.next(), "mediaLibraryEntry.archive", entry_id)

    entry = (await subscribed.api.get(f"{LIBRARY}/{entry_id}")).json()
    assert entry["version"] == 3
    assert len(subscribed.deletes.deliveries) == 0
