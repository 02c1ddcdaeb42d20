"""The web view's job page shows the job's webhook deliveries however many events its project has
had since (issue 27: the page looked for them among the project's 100 newest deliveries, so an
older job's page showed none once its entry events passed 100)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from medialib.library.events import EntryEvent
from medialib.library.projects import new_webhook_secret
from tests.support import media
from tests.support.entries import image_entry, import_entries, new_key, shared
from tests.support.imports import item
from tests.support.origin import Origin
from tests.support.stack import DEMO_MEDIA_TYPES, Stack
from tests.support.web import sign_in
from tests.support.webhooks import Receiver

V = "2026-05"
LATER = 120  # entry events after the job's webhook: more than the 100 the page looked among


async def test_an_older_jobs_page_shows_its_webhook_delivery(
    make_stack: Callable[..., Awaitable[Stack]], origin: Origin
) -> None:
    secret = new_webhook_secret()
    hook, changes = await Receiver(secret=secret).start(), await Receiver(secret=secret).start()
    project = {
        "handle": "newsroom",
        "mediaTypes": DEMO_MEDIA_TYPES,
        "webhookSecret": secret,
        "webhooks": [{"url": changes.url("changes"), "events": [EntryEvent.CREATE.value]}],
    }
    stack = await make_stack(config={"projects": [project]})
    api = await stack.api("newsroom")
    picture = origin.file(f"{uuid.uuid4().hex[:10]}/old.jpg", media.jpeg())
    body = {"systemName": "archive", "webhook": hook.url("jobs"), "images": [item(picture, "old")]}
    started = await api.post(f"/api/{V}/import/images", json=body)
    assert started.status_code == 200, started.text
    job_id = started.json()["id"]
    await hook.delivered()
    key = new_key()
    await stack.put_asset(key)
    await import_entries(api, [shared(image_entry(key)) for _ in range(LATER)])
    for _ in range(LATER + 1):  # the job's own entry, then the later ones
        await changes.delivered()

    newest = await api.get(f"/api/{V}/events/deliveries", params={"limit": 100})
    assert job_id not in {d["subject"] for d in newest.json()["deliveries"]}
    web = await sign_in(stack, await stack.token("newsroom"))
    page = await web.client.get(f"/ui/jobs/{job_id}")

    assert page.status_code == 200, page.text[:300]
    assert "import.finished" in page.text
    assert hook.url("jobs") in page.text
    assert "state-delivered" in page.text
    assert "HTTP 204" in page.text
    assert EntryEvent.CREATE.value not in page.text  # the entries' events are not the job's
    await hook.stop()
    await changes.stop()
