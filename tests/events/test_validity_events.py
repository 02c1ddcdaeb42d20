"""`mediaLibraryEntry.invalid` and `.active` (issue 28): sent when what an entry's metadata says
stops or starts its serving, with the actor when a write did it (li-invalid toggled, a window
edited) and without one when a window opened or closed on its own (a task at the boundary, not a
poll), in medialib's format and in the original's (`settings.webhooks.configurations`: beside
an `update`, signed with `x-livingdocs-signature`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from medialib.auth import tokens
from medialib.library.projects import new_webhook_secret
from tests.support.entries import image_entry, import_entries, new_key
from tests.support.stack import VALIDITY_MEDIA_TYPES, Stack
from tests.support.webhooks import Delivery, Receiver

V = "2026-05"
SECRET = "a-secret-token-to-sign-the-request"
ACTIVE, INVALID, UPDATE = (
    "mediaLibraryEntry.active",
    "mediaLibraryEntry.invalid",
    "mediaLibraryEntry.update",
)
CALLER = {"type": "api-client", "name": "cms-sync"}


@dataclass
class Newsroom:
    stack: Stack
    api: httpx.AsyncClient
    ours: Receiver  # medialib's format, subscribed to active and invalid only
    cms: Receiver  # the original's, subscribed to update, active and invalid


@pytest.fixture
async def newsroom(make_stack: Callable[..., Awaitable[Stack]]) -> AsyncIterator[Newsroom]:
    secret = new_webhook_secret()
    ours = await Receiver(secret=secret).start()
    cms = await Receiver(secret=secret).start()
    project = {
        "handle": "newsroom",
        "projectId": 3,
        "mediaTypes": VALIDITY_MEDIA_TYPES,
        "webhookSecret": secret,
        "webhooks": [{"url": ours.url("ours"), "events": [ACTIVE, INVALID]}],
        "settings": {
            "webhooks": {
                "configurations": [
                    {
                        "handle": "cms",
                        "url": cms.url("cms"),
                        "secret": SECRET,
                        "events": [UPDATE, {"name": ACTIVE}, INVALID],
                    }
                ]
            }
        },
    }
    stack = await make_stack(config={"projects": [project]})
    _, token = await tokens.create_token(
        stack.runtime.db, "newsroom", [tokens.READ, tokens.WRITE], name="cms-sync"
    )
    yield Newsroom(stack, stack.client(token), ours, cms)
    await ours.stop()
    await cms.stop()


def _signed_like_the_original(delivery: Delivery) -> bool:
    """As the original's receivers check: HMAC-SHA256 of JSON.stringify(body)."""
    again = json.dumps(json.loads(delivery.raw), separators=(",", ":"), ensure_ascii=False)
    expected = hmac.new(SECRET.encode(), again.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(delivery.headers["x-livingdocs-signature"], f"sha256={expected}")


def _ours(delivery: Delivery, event: str, media_id: str, actor: dict[str, str] | None) -> None:
    assert delivery.verified
    body = delivery.body
    assert (body["event"], body["mediaId"], body["projectId"]) == (event, media_id, "newsroom")
    assert body.get("actor") == actor
    assert body["deliveryId"] == delivery.headers["webhook-id"]


async def _original(cms: Receiver, events: list[str], media_id: str) -> list[dict[str, Any]]:
    """The next deliveries to the original's configuration, as many as `events`, which they
    must be (in any order); each signed both ways."""
    heard = [await cms.delivered() for _ in events]
    assert all(d.verified and _signed_like_the_original(d) for d in heard)
    bodies = [json.loads(d.raw) for d in heard]
    assert sorted(b["event"] for b in bodies) == sorted(events)
    for body in bodies:
        assert body["mediaId"] == media_id
        assert (body["projectId"], body["projectHandle"], body["webhookHandle"]) == (
            3,
            "newsroom",
            "cms",
        )
    return bodies


async def _set(newsroom: Newsroom, entry_id: str, **values: Any) -> None:
    patches = [
        {"operation": "setMetadataProperty", "propertyName": name, "value": value}
        for name, value in values.items()
    ]
    answer = await newsroom.api.patch(
        f"/api/{V}/mediaLibrary/{entry_id}", json={"patches": patches}
    )
    assert answer.status_code == 200, answer.text


async def _created(newsroom: Newsroom, **metadata: Any) -> tuple[str, str]:
    key = new_key()
    await newsroom.stack.put_asset(key)
    entry = image_entry(key, metadata={"title": "A"} | metadata)
    [result] = await import_entries(newsroom.api, [entry])
    assert result["ok"], result
    return result["id"], key


async def _status(newsroom: Newsroom, key: str) -> tuple[int, int, int]:
    image = await newsroom.api.get(f"/api/{V}/mediaLibrary/serve-image/{key}")
    original = await newsroom.stack.client().get(f"/media/{key}")
    rendition = await newsroom.stack.client().get(f"/media/{key}?w=64")
    return image.status_code, original.status_code, rendition.status_code


def _in(seconds: float) -> tuple[dt.datetime, str]:
    """A moment `seconds` from now, and as an entry's metadata says it (in Swiss time)."""
    moment = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
    zurich = dt.timezone(dt.timedelta(hours=1))
    return moment, moment.astimezone(zurich).isoformat(timespec="milliseconds")


async def test_toggling_li_invalid_sends_invalid_then_active_with_the_actor(
    newsroom: Newsroom,
) -> None:
    media_id, key = await _created(newsroom)

    await _set(newsroom, media_id, invalid=True)

    _ours(await newsroom.ours.delivered(), INVALID, media_id, CALLER)
    bodies = await _original(newsroom.cms, [UPDATE, INVALID], media_id)
    assert all(b["actor"] == CALLER for b in bodies)
    assert await _status(newsroom, key) == (403, 403, 403)

    await _set(newsroom, media_id, invalid=False)

    _ours(await newsroom.ours.delivered(), ACTIVE, media_id, CALLER)
    await _original(newsroom.cms, [UPDATE, ACTIVE], media_id)
    assert await _status(newsroom, key) == (200, 200, 200)

    # A change that leaves the state as it was is an update only.
    await _set(newsroom, media_id, title="B", invalid=False)
    await _original(newsroom.cms, [UPDATE], media_id)
    # An entry imported invalid: its `invalid` comes with its create.
    made_invalid, _ = await _created(newsroom, invalid=True)
    _ours(await newsroom.ours.delivered(), INVALID, made_invalid, CALLER)
    await _original(newsroom.cms, [INVALID], made_invalid)
    assert [d.body["mediaId"] for d in newsroom.ours.deliveries] == [media_id] * 2 + [made_invalid]


async def test_a_window_that_opens_sends_active_at_its_start_without_an_actor(
    newsroom: Newsroom,
) -> None:
    opens, said = _in(2)
    media_id, key = await _created(newsroom, validity={"from": said})
    _ours(await newsroom.ours.delivered(), INVALID, media_id, CALLER)  # not valid yet
    await _original(newsroom.cms, [INVALID], media_id)
    assert await _status(newsroom, key) == (403, 403, 403)

    opened = await newsroom.ours.delivered()

    assert dt.datetime.now(dt.UTC) >= opens
    _ours(opened, ACTIVE, media_id, None)  # the clock did it: no actor
    bodies = await _original(newsroom.cms, [ACTIVE, UPDATE], media_id)
    assert all("actor" not in b for b in bodies)
    assert await _status(newsroom, key) == (200, 200, 200)


async def test_a_window_that_closes_sends_invalid_and_a_stale_look_changes_nothing(
    newsroom: Newsroom,
) -> None:
    _, first_start = _in(1.5)
    media_id, key = await _created(newsroom, validity={"from": first_start})
    _ours(await newsroom.ours.delivered(), INVALID, media_id, CALLER)
    # The window is edited before it opens: the look at its first start is left over, and finds
    # nothing to do when it comes.
    closes, said = _in(3.5)
    await _set(newsroom, media_id, validity={"from": "2001-01-01T00:00:00Z", "to": said})
    _ours(await newsroom.ours.delivered(), ACTIVE, media_id, CALLER)
    assert await _status(newsroom, key) == (200, 200, 200)

    closed = await newsroom.ours.delivered()

    assert dt.datetime.now(dt.UTC) >= closes
    _ours(closed, INVALID, media_id, None)
    assert [d.body["event"] for d in newsroom.ours.deliveries] == [INVALID, ACTIVE, INVALID]
    assert await _status(newsroom, key) == (403, 403, 403)
    await _original(newsroom.cms, [INVALID], media_id)
    await _original(newsroom.cms, [UPDATE, ACTIVE], media_id)
    bodies = await _original(newsroom.cms, [INVALID, UPDATE], media_id)
    assert all("actor" not in b for b in bodies)


async def test_a_shared_object_follows_the_window_of_either_holder(newsroom: Newsroom) -> None:
    key = new_key()
    await newsroom.stack.put_asset(key)
    closes, said = _in(2)
    holders = [
        image_entry(key, metadata={"title": "Kept"}),
        image_entry(key, metadata={"title": "Until soon", "validity": {"to": said}}),
    ]
    for entry in holders:
        entry["asset"]["shared"] = True
    results = await import_entries(newsroom.api, holders)
    assert [r["ok"] for r in results] == [True, True], results
    assert await _status(newsroom, key) == (200, 200, 200)

    closed = await newsroom.ours.delivered()

    _ours(closed, INVALID, results[1]["id"], None)
    assert dt.datetime.now(dt.UTC) >= closes
    assert await _status(newsroom, key) == (403, 403, 403)  # the kept entry's URL too
    await _set(newsroom, results[1]["id"], validity=None)
    _ours(await newsroom.ours.delivered(), ACTIVE, results[1]["id"], CALLER)
    assert await _status(newsroom, key) == (200, 200, 200)
