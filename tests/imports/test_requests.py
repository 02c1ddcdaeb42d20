"""What is wrong with an import request as a whole is a 400 naming every field, and no job."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from medialib.db.tables import import_jobs
from tests.support.stack import Stack

GOOD_ITEM = {"url": "https://archive.example/a.jpg", "id": "a", "fileName": "a", "metadata": {}}


def request(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"systemName": "archive", "images": [dict(GOOD_ITEM)]}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


async def _jobs(stack: Stack) -> int:
    async with stack.runtime.db.read() as conn:
        return int(await conn.scalar(sa.select(sa.func.count()).select_from(import_jobs)) or 0)


@pytest.mark.parametrize(
    ("body", "details"),
    [
        (request(systemName=None), {"systemName": "Field required"}),
        (request(images=[]), {"images": "at least 1 item"}),
        (
            request(images=[{**GOOD_ITEM, "url": "data:image/png;base64,AAAA"}]),
            {"images.0.url": "data URLs"},
        ),
        (
            request(images=[{**GOOD_ITEM, "url": "ftp://archive.example/a.jpg"}]),
            {"images.0.url": "only http and https"},
        ),
        (
            request(images=[{**GOOD_ITEM, "url": "http://user:pw@archive.example/a"}]),
            {"images.0.url": "credentials"},
        ),
        (
            request(images=[{**GOOD_ITEM, "url": "http://2130706433/a.jpg"}]),
            {"images.0.url": "not a canonical IPv4"},
        ),
        (
            request(images=[{**GOOD_ITEM, "url": "not a url"}]),
            {"images.0.url": "only http and https"},
        ),
        (request(images=[GOOD_ITEM, GOOD_ITEM]), {"images.1.id": "also the id of images.0"}),
        (
            request(images=[{**GOOD_ITEM, "mediaType": "file"}]),
            {"images.0.mediaType": "is a mediaFile, not a mediaImage"},
        ),
        (
            request(images=[{**GOOD_ITEM, "mediaType": "podcast"}]),
            {"images.0.mediaType": "no media type 'podcast'"},
        ),
        (request(images=[{**GOOD_ITEM, "id": 5}]), {"images.0.id": "valid string"}),
        (
            request(images=[{k: v for k, v in GOOD_ITEM.items() if k != "fileName"}]),
            {"images.0.fileName": "Field required"},
        ),
        (request(images=[{**GOOD_ITEM, "colour": "red"}]), {"images.0.colour": "Extra inputs"}),
        (request(webhook="javascript:alert(1)"), {"webhook": "only http and https"}),
        (request(context={"blob": "x" * 9000}), {"context": "at most 8192 bytes"}),
        (request(context="not an object"), {"context": "valid dictionary"}),
        (request(files=[GOOD_ITEM]), {"files": "Extra inputs"}),
    ],
)
async def test_a_bad_request_is_a_400_and_makes_no_job(
    stack: Stack, project: str, body: dict[str, Any], details: dict[str, str]
) -> None:
    api = await stack.api(project)
    before = await _jobs(stack)

    response = await api.post("/api/2026-05/import/images", json=body)

    assert response.status_code == 400
    got = response.json()
    assert got["error"] == "Bad Request"
    for field, message in details.items():
        assert message in got["error_details"][field]
    assert await _jobs(stack) == before


async def test_every_bad_field_is_named_at_once(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    body = request(
        webhook="ftp://x",
        images=[{**GOOD_ITEM, "url": "data:,x"}, {**GOOD_ITEM, "mediaType": "video"}],
    )

    response = await api.post("/api/2026-05/import/images", json=body)

    assert set(response.json()["error_details"]) == {
        "webhook",
        "images.0.url",
        "images.1.id",
        "images.1.mediaType",
    }


async def test_more_items_than_a_job_takes_is_a_400(make_stack) -> None:
    stack = await make_stack(max_items_per_job=3)
    api = await stack.api()
    items = [{**GOOD_ITEM, "id": str(i)} for i in range(4)]

    response = await api.post("/api/2026-05/import/images", json=request(images=items))

    assert response.json()["error_details"] == {"images": "at most 3 items per job; got 4"}


async def test_a_context_of_exactly_8192_bytes_is_accepted(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    context = {"k": "x" * (8192 - len('{"k":""}'))}

    response = await api.post("/api/2026-05/import/images", json=request(context=context))

    assert response.status_code == 200


async def test_an_unknown_job_is_a_404(stack: Stack, project: str) -> None:
    api = await stack.api(project)

    response = await api.get("/api/2026-05/import/images/status", params={"id": "nope"})
    no_id = await api.get("/api/2026-05/import/images/status")

    assert response.status_code == 404
    assert no_id.status_code == 400
    assert no_id.json()["error_details"] == {"id": "Field required"}
