"""A project's job list and the status's item views (issue 12's job views), through HTTP."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from tests.support import media
from tests.support.imports import Importer, item
from tests.support.origin import Origin


def path(name: str) -> str:
    return f"{uuid.uuid4().hex[:10]}/{name}"


async def mixed_job(importer: Importer, origin: Origin, good: int, bad: int) -> Any:
    items = [item(origin.file(path(f"{i}.jpg"), media.jpeg()), f"ok-{i}") for i in range(good)]
    items += [item(origin.url(path(f"gone-{i}.jpg")), f"gone-{i}") for i in range(bad)]
    status, _ = await importer.run(items)
    return status


async def test_the_job_list_walks_every_job_newest_first(
    importer: Importer, origin: Origin
) -> None:
    made = [(await mixed_job(importer, origin, 1, 0))["id"] for _ in range(3)]
    failed = (await mixed_job(importer, origin, 0, 1))["id"]
    made.append(failed)

    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        response = await importer.api.get("/api/2026-05/import/jobs", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["jobs"]) <= 2
        seen += page["jobs"]
        cursor = page["cursor"]
        if cursor is None:
            break
    assert [job["id"] for job in seen] == list(reversed(made))
    newest = seen[0]
    assert newest["kind"] == "image"
    assert newest["state"] == "failed"
    assert newest["finished"]
    assert newest["progress"] == {"total": 1, "done": 1, "success": 0, "skipped": 0, "failed": 1}
    assert newest["systemName"] == "archive"
    assert newest["finishedAt"] >= newest["startedAt"]

    only_failed = await importer.api.get("/api/2026-05/import/jobs", params={"state": "failed"})
    assert [job["id"] for job in only_failed.json()["jobs"]] == [failed]
    files = await importer.api.get("/api/2026-05/import/jobs", params={"kind": "file"})
    assert files.json() == {"jobs": [], "cursor": None}


async def test_bad_list_parameters_are_400s(importer: Importer) -> None:
    for params in ({"kind": "poster"}, {"state": "done"}, {"limit": 0}, {"cursor": "nonsense"}):
        response = await importer.api.get("/api/2026-05/import/jobs", params=params)
        assert response.status_code == 400, params
        assert response.json()["error"] == "Bad Request"


async def test_another_projects_jobs_are_not_listed(importer: Importer, origin: Origin) -> None:
    await mixed_job(importer, origin, 1, 0)
    stranger = await importer.stack.api("other")
    listed = (await stranger.get("/api/2026-05/import/jobs")).json()["jobs"]
    mine = (await importer.api.get("/api/2026-05/import/jobs")).json()["jobs"]
    assert not {job["id"] for job in listed} & {job["id"] for job in mine}


async def test_the_status_shows_failed_items_only_or_none(
    importer: Importer, origin: Origin
) -> None:
    status = await mixed_job(importer, origin, 2, 2)
    job_id = status["id"]
    assert len(status["images"]) == 4
    assert "cursor" not in status

    def read(**params: Any) -> Any:
        return importer.api.get("/api/2026-05/import/images/status", params={"id": job_id} | params)

    failed = (await read(items="failed")).json()
    assert sorted(i["externalId"] for i in failed["images"]) == ["gone-0", "gone-1"]
    assert failed["progress"]["done"] == 4
    none = (await read(items="none")).json()
    assert none["images"] == []
    assert none["progress"] == status["progress"]
    assert (await read(items="some")).status_code == 400


async def test_the_status_pages_its_items(importer: Importer, origin: Origin) -> None:
    status = await mixed_job(importer, origin, 3, 2)
    everything = [i["externalId"] for i in status["images"]]
    pages: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"id": status["id"], "limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        page = (await importer.api.get("/api/2026-05/import/images/status", params=params)).json()
        pages += [i["externalId"] for i in page["images"]]
        cursor = page["cursor"]
        if cursor is None:
            break
    assert pages == everything
    bad = await importer.api.get(
        "/api/2026-05/import/images/status", params={"id": status["id"], "cursor": "x"}
    )
    assert bad.status_code == 400


async def _progress_reaches(importer: Importer, job_id: str, done: int) -> dict[str, Any]:
    """The status once `done` items have finished; progress is only visible by reading it."""
    async with asyncio.timeout(30):
        while True:
            status = await importer.status(job_id)
            if status["progress"]["done"] >= done:
                return dict(status)
            await asyncio.sleep(0.02)


async def test_progress_counts_items_as_they_finish_and_cancel_stops_the_rest(
    importer: Importer, origin: Origin
) -> None:
    gate = asyncio.Event()
    held = path("held.jpg")
    items = [item(origin.file(path(f"{i}.jpg"), media.jpeg()), f"free-{i}") for i in range(3)]
    items.append(item(origin.gated(held, media.jpeg(), gate), "held"))
    job_id = await importer.start(items)  # one chunk: the held item keeps it open

    status = await _progress_reaches(importer, job_id, 3)
    assert not status["finished"]
    assert status["progress"] == {"total": 4, "done": 3, "success": 3, "skipped": 0, "failed": 0}

    cancelled = await importer.api.post(f"/api/2026-05/import/jobs/{job_id}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    summary = cancelled.json()
    assert summary["finished"]
    assert summary["state"] == "failed"  # three items succeeded, but the job did not
    assert summary["cancelledAt"] >= summary["startedAt"]
    assert summary["progress"]["failed"] == 1
    delivery = await importer.receiver.delivered()
    assert delivery.body["id"] == job_id
    assert delivery.body["state"] == "failed"
    assert delivery.body["overview"]["failed"] == 1

    gate.set()  # the held download was aborted (tests/imports/test_cancel.py)
    final = await importer.settled(job_id)
    [stopped] = [i for i in final["images"] if i["externalId"] == "held"]
    assert stopped["state"] == "failed"
    assert stopped["reasonCode"] == "cancelled"

    again = await importer.api.post(f"/api/2026-05/import/jobs/{job_id}/cancel")
    assert again.status_code == 409
    assert again.json()["error"] == "Conflict"
    unknown = await importer.api.post("/api/2026-05/import/jobs/aaaaaaaaaaaa/cancel")
    assert unknown.status_code == 404
    stranger = await importer.stack.api("other")
    assert (await stranger.post(f"/api/2026-05/import/jobs/{job_id}/cancel")).status_code == 404
