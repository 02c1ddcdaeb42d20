"""The events page's `failing` filter, over HTTP: what an operator looks for first is what gave
up and what is still being tried after a failed attempt, never what was delivered."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx

from tests.support import media
from tests.support.origin import Origin
from tests.support.stack import Stack
from tests.support.web import WebSession, sign_in

V = "2026-05"


async def _job(api: httpx.AsyncClient, origin: Origin, name: str, webhook: str) -> str:
    picture = origin.file(f"{name}.jpg", media.jpeg(), "image/jpeg")
    item = {"url": picture, "id": name, "fileName": f"{name}.jpg", "metadata": {}}
    body = {"systemName": "events-filter", "images": [item], "webhook": webhook}
    started = await api.post(f"/api/{V}/import/images", json=body)
    assert started.status_code == 200, started.text
    job_id: str = started.json()["id"]
    return job_id


async def _rows(web: WebSession, state: str) -> str:
    page = await web.client.get("/ui/events", params={"state": state})
    assert page.status_code == 200, page.text[:300]
    return page.text


async def _until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Deliveries are attempted by the stack's worker: wait until the page says so."""
    try:
        async with asyncio.timeout(30):
            while not await check():
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"never: {what}") from None


async def test_failing_shows_a_delivery_retrying_after_a_failed_attempt_and_not_the_delivered(
    make_stack: Callable[..., Awaitable[Stack]], origin: Origin
) -> None:
    # After its first failed attempt, a delivery waits an hour: it stays pending, and failing.
    stack = await make_stack(webhook_retry_delays=[3600])
    api = await stack.api()
    refused = await _job(api, origin, "to-a-failing-hook", origin.status("events-500", 500))
    taken = await _job(api, origin, "to-a-good-hook", origin.file("events-ok", b""))
    web = await sign_in(stack, await stack.token())

    async def both_tried() -> bool:
        return refused in await _rows(web, "pending") and taken in await _rows(web, "delivered")

    await _until(both_tried, "one delivery retrying, one delivered")
    failing = await _rows(web, "failing")
    every = await _rows(web, "")

    assert refused in failing
    assert taken not in failing
    assert refused in every
    assert taken in every
    assert 'value="failing" selected' in failing


async def test_an_unknown_state_is_a_400_page(stack: Stack) -> None:
    web = await sign_in(stack, await stack.token())

    for state in ("Failing", "failing;", "retrying"):
        answer = await web.client.get("/ui/events", params={"state": state})
        assert answer.status_code == 400, (state, answer.status_code)
