"""What livingdocsIO/dpa-example, the original API's import example, does, written afresh from its
behaviour (not its code), against a live medialib: it sends one image job per batch of news
articles, and when the job's webhook comes it decides the batch's fate the way that client does.

That client
- POSTs `/api/v1/import/images` with `systemName`, `webhook` and `images` (`url`, `id`,
  `fileName`, `metadata`: title, caption, source, createdAt; no `mediaType`, no `context`) and
  keeps only the answer's `id`;
- on the webhook (JSON, unsigned as far as it cares) expects `source` to be
  `livingdocs-image-import`, fails the batch when `state` is not `success` or when
  `overview.details.failed` (default 0) is `> 0`, compared as JavaScript compares;
- else reads `/api/v1/import/images/status?id=<id>` (the id put in the URL as it is), and uses
  `state`, and of `images` each item's `status`, `externalId` and `image` (placed verbatim into a
  document as an image directive).
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support import media
from tests.support.origin import Origin
from tests.support.stack import Stack
from tests.support.webhooks import Receiver

DPA_IMAGE = {
    "handle": "image",
    "type": "mediaImage",
    "metadata": [
        {"handle": "title", "type": "li-text"},
        {"handle": "caption", "type": "li-text"},
        {"handle": "source", "type": "li-text"},
        {"handle": "createdAt", "type": "li-datetime"},
    ],
}


def js_number(value: Any) -> float:
    """JavaScript's ToNumber, for what a JSON body can hold."""
    if value is None or value is False:
        return 0.0
    if value is True:
        return 1.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip() or "0")
        except ValueError:
            return math.nan
    if isinstance(value, list):  # ToPrimitive: the elements joined by commas
        if not value:
            return 0.0
        if len(value) == 1 and not isinstance(value[0], dict | list):
            return js_number(value[0])
        return math.nan
    return math.nan  # "[object Object]"


def js_greater_than_zero(value: Any) -> bool:
    return js_number(value) > 0  # NaN > 0 is false, as in JavaScript


@dataclass
class Batch:
    state: str = "pending"
    message: str | None = None
    images: list[dict[str, Any]] | None = None


@dataclass
class DpaClient:
    """The example's image side, as it behaves."""

    api: httpx.AsyncClient
    webhook: str
    batches: dict[str, Batch]

    async def import_articles(self, images: list[dict[str, Any]]) -> str:
        body = {"systemName": "dpa-import-example", "webhook": self.webhook, "images": images}
        response = await self.api.post("/api/v1/import/images", json=body)
        assert response.status_code == 200, response.text
        job_id = response.json()["id"]
        assert isinstance(job_id, str)
        self.batches[job_id] = Batch()  # stored only once the answer came
        return job_id

    async def images_imported(self, body: dict[str, Any]) -> Batch:
        assert body["source"] == "livingdocs-image-import"
        batch = self.batches[body["id"]]
        if body["state"] != "success":
            batch.state, batch.message = "failed", "job failed"
            return batch
        failed = (body.get("overview") or {}).get("details", {}).get("failed", 0)
        if js_greater_than_zero(failed):
            batch.state, batch.message = "failed", "at least one of the images failed"
            return batch
        status = (await self.api.get(f"/api/v1/import/images/status?id={body['id']}")).json()
        if status["state"] != "success" or any(i["status"] == "failed" for i in status["images"]):
            batch.state, batch.message = "failed", "the status disagrees"
            return batch
        batch.state, batch.images = "success", status["images"]
        return batch


def article_image(origin: Origin, urn: str, found: bool = True) -> dict[str, Any]:
    name = f"dpa/{uuid.uuid4().hex[:10]}/{urn}.jpg"
    url = origin.file(name, media.jpeg(), "image/jpeg") if found else origin.url(name)
    return {
        "url": url,
        "id": f"urn:newsml:dpa.com:20090101:{urn}",
        "fileName": f"Headline {urn}",
        "metadata": {
            "title": f"Headline {urn}",
            "caption": "A caption",
            "source": "dpa",
            "createdAt": "2020-12-10T14:11:56.000Z",
        },
    }


async def test_the_dpa_example_imports_a_batch_and_places_its_images(
    make_stack: Callable[..., Awaitable[Stack]], origin: Origin
) -> None:
    stack = await make_stack(config={"projects": [{"handle": "dpa", "mediaTypes": [DPA_IMAGE]}]})
    hooks = await Receiver().start()
    client = DpaClient(await stack.api("dpa"), hooks.url("images-imported"), {})
    try:
        job_id = await client.import_articles(
            [article_image(origin, "a1"), article_image(origin, "a2")]
        )
        webhook = await hooks.delivered()
        assert webhook.headers["content-type"] == "application/json"
        assert webhook.body["id"] == job_id
        details = webhook.body["overview"]["details"]
        assert all(isinstance(details[k], int) for k in ("success", "skipped", "failed"))
        batch = await client.images_imported(webhook.body)
    finally:
        await hooks.stop()
    assert (batch.state, batch.message) == ("success", None)
    assert batch.images is not None
    by_urn = {item["externalId"]: item for item in batch.images}
    assert set(by_urn) == {"urn:newsml:dpa.com:20090101:a1", "urn:newsml:dpa.com:20090101:a2"}
    for item in by_urn.values():
        image = item["image"]  # goes verbatim into a document's image directive
        assert isinstance(image["mediaId"], str)
        assert image["url"].startswith("http")
        assert image["originalUrl"].startswith("http")
        assert (image["width"], image["height"]) == (64, 48)
        assert image["mimeType"] == "image/jpeg"
        assert isinstance(image["imageService"], str)


async def test_the_dpa_example_sees_a_failed_image_in_the_webhook(
    make_stack: Callable[..., Awaitable[Stack]], origin: Origin
) -> None:
    stack = await make_stack(config={"projects": [{"handle": "dpa", "mediaTypes": [DPA_IMAGE]}]})
    hooks = await Receiver().start()
    client = DpaClient(await stack.api("dpa"), hooks.url("images-imported"), {})
    try:
        await client.import_articles(
            [article_image(origin, "b1"), article_image(origin, "b2", found=False)]
        )
        webhook = await hooks.delivered()
        batch = await client.images_imported(webhook.body)
    finally:
        await hooks.stop()
    # The job succeeded (one image did), and the client still sees the failure, from a number.
    assert webhook.body["state"] == "success"
    assert webhook.body["overview"]["details"]["failed"] == 1
    assert (batch.state, batch.message) == ("failed", "at least one of the images failed")
    # Why that needs a number: the list medialib used to send there compares false in JavaScript.
    earlier = [{"externalId": "urn:newsml:dpa.com:20090101:b2", "reason": "…"}]
    assert not js_greater_than_zero(earlier)
    assert webhook.body["overview"]["failedItems"][0]["reasonCode"] == "http_404"


async def test_a_job_that_finishes_at_once_calls_back_after_its_answer(
    make_stack: Callable[..., Awaitable[Stack]], origin: Origin
) -> None:
    """The example keeps a batch's id only once the POST has answered: a job that finishes at
    once (every item refused before any download) must not call back before that. Its webhook
    waits until the job is MEDIALIB_JOB_WEBHOOK_HOLD (1 s) old."""
    stack = await make_stack(
        config={"projects": [{"handle": "dpa", "mediaTypes": [DPA_IMAGE]}]}, job_webhook_hold=1.0
    )
    hooks = await Receiver().start()
    client = DpaClient(await stack.api("dpa"), hooks.url("images-imported"), {})
    refused = article_image(origin, "c1") | {"metadata": {"unknown": "property"}}
    try:
        await client.import_articles([refused])
        answered = time.monotonic()
        webhook = await hooks.delivered()
        batch = await client.images_imported(webhook.body)
    finally:
        await hooks.stop()
    assert webhook.at - answered >= 0.5
    assert webhook.body["state"] == "failed"
    assert (batch.state, batch.message) == ("failed", "job failed")
