"""Limits that keep one caller from taking the service: body size, requests per token, running
jobs per project."""

from __future__ import annotations

import asyncio
import uuid

from tests.support import media
from tests.support.imports import Importer, item
from tests.support.origin import Origin


async def test_a_token_over_its_rate_gets_429_with_retry_after(make_stack) -> None:
    stack = await make_stack(rate_limit=1.0, rate_limit_burst=3)
    api = await stack.api()
    other = await stack.api()

    answers = [await api.get("/api/2026-05/mediaLibrary/x") for _ in range(5)]

    assert [a.status_code for a in answers] == [404, 404, 404, 429, 429]
    refused = answers[3]
    assert refused.json()["error"] == "Too Many Requests"
    assert "1 requests per second" in refused.json()["error_details"]["message"]
    assert int(refused.headers["Retry-After"]) >= 1
    # Another token has its own allowance.
    assert (await other.get("/api/2026-05/mediaLibrary/x")).status_code == 404


async def test_a_project_may_run_only_so_many_jobs_at_once(make_stack, origin: Origin) -> None:
    stack = await make_stack(max_open_jobs=1)
    importer = await Importer.open(stack, "demo")
    gate = asyncio.Event()
    held = origin.gated(f"{uuid.uuid4().hex}/held.jpg", media.jpeg(), gate)
    await importer.start([item(held, "first")])

    refused = await importer.api.post(
        "/api/2026-05/import/images",
        json={"systemName": "archive", "images": [item(held, "second")]},
    )
    gate.set()
    await importer.receiver.delivered()  # the first job is finished before its webhook goes
    accepted_later = await importer.api.post(
        "/api/2026-05/import/images",
        json={"systemName": "archive", "images": [item(held, "third")]},
    )

    assert refused.status_code == 429
    assert "at most 1 may be" in refused.json()["error_details"]["message"]
    assert refused.headers["Retry-After"] == "30"
    assert accepted_later.status_code == 200
    await importer.close()
