"""The signed webhook: retries on schedule, no redirects, every attempt recorded."""

from __future__ import annotations

import uuid

from tests.support import media
from tests.support.imports import Importer, item
from tests.support.origin import Origin
from tests.support.stack import Stack


def path(name: str) -> str:
    return f"{uuid.uuid4().hex[:10]}/{name}"


async def test_a_failing_receiver_gets_the_webhook_again(
    importer: Importer, origin: Origin
) -> None:
    importer.receiver.failures = [500, 503]
    job_id = await importer.start([item(origin.file(path("a.jpg"), media.jpeg()), "a")])

    delivery = await importer.receiver.delivered()

    assert [d.answered for d in importer.receiver.deliveries] == [500, 503, 204]
    assert {d.headers["webhook-id"] for d in importer.receiver.deliveries} == {f"msg_{job_id}"}
    assert all(d.verified for d in importer.receiver.deliveries)
    assert delivery.body["id"] == job_id
    status = await importer.settled(job_id)
    assert status["webhook"] == {"state": "delivered", "attempts": 3, "lastStatusCode": 204}


async def test_a_redirect_is_an_answer_not_a_way(importer: Importer, origin: Origin) -> None:
    importer.receiver.failures = [302]
    job_id = await importer.start([item(origin.file(path("r.jpg"), media.jpeg()), "r")])

    await importer.receiver.delivered()

    # The 302 pointed at /moved: it was not followed; the next attempt went to the same URL.
    assert [d.answered for d in importer.receiver.deliveries] == [302, 204]
    assert (await importer.settled(job_id))["webhook"]["attempts"] == 2


async def test_after_the_last_attempt_the_webhook_has_failed(
    importer: Importer, origin: Origin, stack: Stack
) -> None:
    attempts = len(stack.settings.webhook_retry_delays) + 1
    importer.receiver.failures = [500] * attempts
    job_id = await importer.start([item(origin.file(path("f.jpg"), media.jpeg()), "f")])

    for _ in range(attempts):
        await importer.receiver.next()
    status = await importer.settled(job_id)

    assert status["webhook"] == {"state": "failed", "attempts": 8, "lastStatusCode": 500}


async def test_a_webhook_to_a_refused_address_is_never_sent(
    importer: Importer, origin: Origin
) -> None:
    body = {
        "systemName": "archive",
        "webhook": "http://127.0.0.2:9/hook",
        "images": [item(origin.file(path("w.jpg"), media.jpeg()), "w")],
    }
    response = await importer.api.post("/api/2026-05/import/images", json=body)

    status = await importer.settled(response.json()["id"])

    assert status["webhook"]["state"] == "failed"
    assert status["webhook"]["lastStatusCode"] is None
    assert importer.receiver.deliveries == []
