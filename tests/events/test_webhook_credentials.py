"""A webhook URL may carry credentials for its receiver (`https://user:password@cms.example/hook`),
from a project's config or a job's request: they are sent (HTTP Basic auth) and shown nowhere,
neither in the API's deliveries list, nor in the web view's pages, nor in the logs, which show
`user:***@` instead."""

from __future__ import annotations

import asyncio
import base64
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest

from medialib.library.projects import new_webhook_secret
from tests.support import media
from tests.support.entries import image_entry, import_entries, new_key
from tests.support.imports import item
from tests.support.origin import Origin
from tests.support.stack import DEMO_MEDIA_TYPES, Stack
from tests.support.web import WebSession, sign_in
from tests.support.webhooks import Receiver

USER, PASSWORD = "hook-user", "s3cret-pw-7f1c"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
V = "2026-05"


def with_credentials(url: str) -> str:
    return url.replace("http://", f"http://{USER}:{PASSWORD}@", 1)


def shown(url: str) -> str:
    """How every page, list and log line shows a URL with credentials."""
    return url.replace("http://", f"http://{USER}:***@", 1)


@dataclass
class Newsroom:
    stack: Stack
    api: httpx.AsyncClient
    web: WebSession
    events: Receiver  # the config subscribes it to entry creations, with credentials


@pytest.fixture
async def newsroom(
    make_stack: Callable[..., Awaitable[Stack]], caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Newsroom]:
    # Every logger's lines from INFO up (what the server logs; DEBUG is a driver's own trace of
    # every query parameter, stored values and all).
    caplog.set_level(logging.INFO)
    secret = new_webhook_secret()
    events = await Receiver(secret=secret, failures=[500]).start()
    project = {
        "handle": "newsroom",
        "mediaTypes": DEMO_MEDIA_TYPES,
        "webhookSecret": secret,
        "webhooks": [
            {"url": with_credentials(events.url("events")), "events": ["mediaLibraryEntry.create"]}
        ],
    }
    stack = await make_stack(config={"projects": [project]})
    web = await sign_in(stack, await stack.token("newsroom"))
    yield Newsroom(stack, await stack.api("newsroom"), web, events)
    await events.stop()


async def _never_shows_the_password(newsroom: Newsroom, *pages: str) -> dict[str, str]:
    """The deliveries list and `pages` of the web view, checked for the password; their text."""
    texts = {}
    listed = await newsroom.api.get(f"/api/{V}/events/deliveries")
    assert listed.status_code == 200, listed.text
    texts["deliveries"] = listed.text
    for page in pages:
        response = await newsroom.web.client.get(page)
        assert response.status_code == 200, response.text[:300]
        texts[page] = response.text
    for where, text in texts.items():
        assert PASSWORD not in text, where
    return texts


async def test_a_configured_webhooks_credentials_are_sent_never_shown(
    newsroom: Newsroom, caplog: pytest.LogCaptureFixture
) -> None:
    key = new_key()
    await newsroom.stack.put_asset(key)
    [created] = await import_entries(newsroom.api, [image_entry(key)])

    delivery = await newsroom.events.delivered()  # after one attempt answered 500

    assert [d.answered for d in newsroom.events.deliveries] == [500, 204]
    assert all(d.headers["authorization"] == BASIC for d in newsroom.events.deliveries)
    assert delivery.body["mediaId"] == created["record"]["id"]
    texts = await _never_shows_the_password(newsroom, "/ui/events")
    [listed] = (await newsroom.api.get(f"/api/{V}/events/deliveries")).json()["deliveries"]
    assert listed["url"] == shown(newsroom.events.url("events"))
    assert shown(newsroom.events.url("events")) in texts["/ui/events"]
    assert PASSWORD not in caplog.text
    # The failed attempt was logged, with the receiver it failed at.
    assert f"to {shown(newsroom.events.url('events'))}, attempt 1: HTTP 500" in caplog.text


async def test_a_jobs_webhook_credentials_are_sent_never_shown(
    newsroom: Newsroom, origin: Origin, caplog: pytest.LogCaptureFixture
) -> None:
    hook = await Receiver(secret=newsroom.events.secret, failures=[503]).start()
    gate = asyncio.Event()
    picture = origin.gated(f"{uuid.uuid4().hex[:10]}/held.jpg", media.jpeg(), gate)
    body = {
        "systemName": "archive",
        "webhook": with_credentials(hook.url("jobs")),
        "images": [item(picture, "held")],
    }
    started = await newsroom.api.post(f"/api/{V}/import/images", json=body)
    assert started.status_code == 200, started.text
    job_id = started.json()["id"]

    # While the job runs, its page names the webhook it will call.
    running = await _never_shows_the_password(newsroom, f"/ui/jobs/{job_id}")
    assert shown(hook.url("jobs")) in running[f"/ui/jobs/{job_id}"]
    gate.set()
    await hook.delivered()

    assert all(d.headers["authorization"] == BASIC for d in hook.deliveries)
    finished = await _never_shows_the_password(newsroom, f"/ui/jobs/{job_id}", "/ui/events")
    assert shown(hook.url("jobs")) in finished[f"/ui/jobs/{job_id}"]
    status = await newsroom.api.get(f"/api/{V}/import/images/status", params={"id": job_id})
    assert PASSWORD not in status.text
    listed = (await newsroom.api.get(f"/api/{V}/events/deliveries")).json()["deliveries"]
    assert shown(hook.url("jobs")) in [d["url"] for d in listed]
    assert PASSWORD not in caplog.text
    assert f"to {shown(hook.url('jobs'))}, attempt 1: HTTP 503" in caplog.text
    await hook.stop()


async def test_credentials_beyond_latin_1_are_sent_in_utf8_and_never_shown(
    newsroom: Newsroom, origin: Origin, caplog: pytest.LogCaptureFixture
) -> None:
    """aiohttp encodes Basic auth in Latin-1: a password with '€' crashed every delivery (never
    sent, never recorded, the password in the task's log line)."""
    hook = await Receiver(secret=newsroom.events.secret).start()
    url = hook.url("euro").replace("http://", "http://ops:Geheim%E2%82%ACwort@", 1)
    body = {
        "systemName": "archive",
        "webhook": url,
        "images": [item(origin.file(f"{uuid.uuid4().hex[:10]}/e.jpg", media.jpeg()), "euro")],
    }
    started = await newsroom.api.post(f"/api/{V}/import/images", json=body)
    assert started.status_code == 200, started.text

    delivery = await hook.delivered()

    expected = "Basic " + base64.b64encode("ops:Geheim€wort".encode()).decode()
    assert delivery.headers["authorization"] == expected
    listed = (await newsroom.api.get(f"/api/{V}/events/deliveries")).json()["deliveries"]
    assert hook.url("euro").replace("http://", "http://ops:***@", 1) in [d["url"] for d in listed]
    assert "Geheim" not in caplog.text
    await hook.stop()
