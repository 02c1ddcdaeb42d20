"""POST /api/{v}/import/jobs/{id}/retry: a job's failed items imported again, as they were asked
for, in a new job of the same kind, system and webhook (the web view's retry button calls the
same front door)."""

from __future__ import annotations

import uuid

from medialib.auth.tokens import READ
from tests.support import media
from tests.support.imports import Importer, item
from tests.support.origin import Origin
from tests.support.stack import Stack

V = "2026-05"


def path(name: str) -> str:
    return f"{uuid.uuid4().hex[:10]}/{name}"


async def test_retry_imports_the_failed_items_again_in_a_new_job(
    importer: Importer, origin: Origin
) -> None:
    good = origin.file(path("good.jpg"), media.jpeg())
    later = [path(f"later-{i}.jpg") for i in range(2)]
    items = [item(good, "r-good")]
    items += [
        item(origin.url(name), f"r-later-{i}", metadata={"title": f"#{i}"})
        for i, name in enumerate(later)
    ]
    first, _ = await importer.run(items)
    assert first["progress"]["failed"] == 2

    for name in later:  # the archive has them now
        origin.file(name, media.jpeg())
    retried = await importer.api.post(f"/api/{V}/import/jobs/{first['id']}/retry")
    assert retried.status_code == 200, retried.text
    new_id = retried.json()["id"]
    assert new_id != first["id"]
    delivery = await importer.receiver.delivered()
    assert delivery.body["id"] == new_id
    assert delivery.body["context"] == {"retryOf": first["id"]}
    second = await importer.settled(new_id)
    assert second["state"] == "success"
    assert sorted(i["externalId"] for i in second["images"]) == ["r-later-0", "r-later-1"]
    assert all(i["state"] == "success" for i in second["images"])

    job = (await importer.api.get(f"/api/{V}/import/jobs", params={"limit": 1})).json()["jobs"][0]
    assert (job["id"], job["systemName"], job["kind"]) == (new_id, "archive", "image")
    entry = await importer.api.get(
        f"/api/{V}/mediaLibrary", params={"systemName": "archive", "externalId": "r-later-1"}
    )
    assert entry.json()["results"][0]["metadata"] == {"title": "#1"}


async def test_retry_refuses_what_it_cannot_do(
    importer: Importer, origin: Origin, stack: Stack, project: str
) -> None:
    clean, _ = await importer.run([item(origin.file(path("ok.jpg"), media.jpeg()), "r-ok")])
    nothing = await importer.api.post(f"/api/{V}/import/jobs/{clean['id']}/retry")
    assert nothing.status_code == 400
    assert "no failed items" in nothing.json()["error_details"]["id"]

    stranger = await stack.api("other")
    theirs = await stranger.post(f"/api/{V}/import/jobs/{clean['id']}/retry")
    assert theirs.status_code == 404  # another project's job is not found, never retried

    reader = stack.client(await stack.token(project, scopes=(READ,)))
    read_only = await reader.post(f"/api/{V}/import/jobs/{clean['id']}/retry")
    assert read_only.status_code == 403

    for bad in ("nope", "x" * 12 + "%0A", "%00" * 12, "a" * 5000):
        response = await importer.api.post(f"/api/{V}/import/jobs/{bad}/retry")
        assert response.status_code == 404, bad
