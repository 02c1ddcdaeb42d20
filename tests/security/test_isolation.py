"""Projects cannot see each other; tokens never reach a log; webhook secrets never leave."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx

from medialib.library.projects import webhook_secret
from tests.support import media
from tests.support.entries import image_asset, new_key, stored_image
from tests.support.imports import Importer, item
from tests.support.origin import Origin
from tests.support.process import ServerProcess
from tests.support.stack import Stack


async def test_every_endpoint_answers_another_projects_token_with_404(
    stack: Stack, importer: Importer, origin: Origin, project: str
) -> None:
    owner = importer.api
    entry = await stored_image(stack, owner, metadata={"title": "Private title"})
    files_job = await importer.start(
        [item(origin.file(f"{uuid.uuid4().hex}/f.pdf", media.PDF), "f")], kind="files"
    )
    await importer.receiver.delivered()
    images_job = await importer.start(
        [item(origin.file(f"{uuid.uuid4().hex}/i.jpg", media.jpeg()), "i")]
    )
    await importer.receiver.delivered()
    stranger = await stack.api("other")
    key = new_key()
    await stack.put_asset(key)
    before = await stack.snapshot(project)

    answers = {
        "get": await stranger.get(f"/api/2026-05/mediaLibrary/{entry['id']}"),
        "patch": await stranger.patch(
            f"/api/2026-05/mediaLibrary/{entry['id']}",
            json={"patches": [{"operation": "revokeAsset"}]},
        ),
        "replace": await stranger.patch(
            f"/api/2026-05/mediaLibrary/{entry['id']}",
            json={"patches": [{"operation": "replaceAsset", "value": image_asset(key)}]},
        ),
        "images-status": await stranger.get(
            "/api/2026-05/import/images/status", params={"id": images_job}
        ),
        "files-status": await stranger.get(
            "/api/2026-05/import/files/status", params={"id": files_job}
        ),
    }
    listed = await stranger.get("/api/2026-05/mediaLibrary", params={"ids": entry["id"]})
    by_pair = await stranger.get(
        "/api/2026-05/mediaLibrary",
        params={"systemName": "archive", "externalId": entry["externalId"]},
    )

    for name, answer in answers.items():
        assert answer.status_code == 404, name
        assert "Private title" not in answer.text
        assert entry["asset"]["key"] not in answer.text
    assert listed.json() == {"results": []}
    assert by_pair.json() == {"results": []}
    assert await stack.snapshot(project) == before


async def _every_answer(stack: Stack, api: httpx.AsyncClient, entry_id: str, job: str) -> str:
    """Every kind of answer the API gives a project's own token, concatenated."""
    answers = [
        await api.get(f"/api/2026-05/mediaLibrary/{entry_id}"),
        await api.get("/api/2026-05/mediaLibrary", params={"ids": entry_id}),
        await api.get("/api/2026-05/import/images/status", params={"id": job}),
        await api.get("/api/2026-05/import/images/status", params={"id": "nope"}),
        await api.post("/api/2026-05/import/images", json={"systemName": 1}),
        await api.get("/api/1999-01/mediaLibrary/x"),
        await stack.client().get("/openapi.json"),
        await stack.client().get("/readyz"),
    ]
    return "".join(answer.text for answer in answers)


async def test_the_webhook_secret_is_never_in_an_answer(
    stack: Stack, importer: Importer, origin: Origin, project: str
) -> None:
    secret = await webhook_secret(stack.runtime.db, project)
    entry = await stored_image(stack, importer.api)
    job = await importer.start([item(origin.file(f"{uuid.uuid4().hex}/s.jpg", media.jpeg()), "s")])
    delivery = await importer.receiver.delivered()

    everything = await _every_answer(stack, importer.api, entry["id"], job)

    assert delivery.verified  # the secret is in use ...
    assert secret not in everything  # ... and never shown
    assert secret.removeprefix("whsec_") not in everything


def _accessed(log: str, method: str, route: str) -> bool:
    """Whether the server's JSON log (it logs JSON when its stderr is no terminal) has an
    access line for `method` on `route`, a route's template (paths and queries are never
    logged: docs/operations.md, Logs)."""
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    return any(
        line.get("logger") == "medialib.access"
        and (line.get("method"), line.get("route")) == (method, route)
        for line in lines
    )


async def test_tokens_never_reach_the_log(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "home")
    token = server.run("token", "create", "--project", "demo", "--scope", "public-api:read")
    server.serve("--workers", "0")
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            good = {"Authorization": f"Bearer {token}"}
            await client.get("/api/2026-05/mediaLibrary/x", headers=good)
            await client.get("/api/2026-05/mediaLibrary", params={"ids": "a"}, headers=good)
            await client.post("/api/2026-05/import/images", json={}, headers=good)
            await client.get(
                f"/api/2026-05/mediaLibrary/{token}", headers=good
            )  # a careless caller
            await client.get(
                "/api/2026-05/mediaLibrary/x", headers={"Authorization": f"Bearer {token}x"}
            )
    finally:
        server.stop()
    log = "".join(server.output)

    assert _accessed(log, "GET", "/api/{version}/mediaLibrary")  # the requests were logged ...
    assert token not in log.replace(f"/mediaLibrary/{token}", "")  # ... their tokens not
    assert token.removeprefix("mlt_")[:20] not in log.replace(f"/mediaLibrary/{token}", "")


async def test_capabilities_in_a_query_never_reach_the_log(tmp_path: Path) -> None:
    """A signed upload URL is an upload to whoever reads it, for an hour; a token a careless
    client puts in the query is the project's: the access log names the route's template only."""
    server = ServerProcess(tmp_path / "home")
    token = server.run("token", "create", "--project", "demo", "--scope", "public-api:write")
    server.serve("--workers", "0")
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            body = {"fileName": "a.jpg", "mimeType": "image/jpeg", "size": 3}
            headers = {"Authorization": f"Bearer {token}"}
            upload = (
                await client.post("/api/2026-05/mediaLibrary/uploads", json=body, headers=headers)
            ).json()
            stored = await client.put(
                upload["uploadUrl"], content=b"abc", headers=upload["headers"]
            )
            assert stored.status_code == 200, stored.text
            await client.get("/api/2026-05/mediaLibrary", params={"access_token": token})
    finally:
        server.stop()
    log = "".join(server.output)
    signature = dict(parse_qsl(urlsplit(upload["uploadUrl"]).query))["signature"]

    assert _accessed(log, "PUT", "/uploads/{key}")  # the upload was logged ...
    assert signature not in log  # ... its signature not (nor its key: a route names neither)
    assert upload["key"] not in log
    assert token not in log
