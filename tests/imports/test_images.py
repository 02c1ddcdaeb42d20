"""POST /import/images and its status, through a real origin and a real webhook receiver."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from typing import Any

import pytest

from tests.support import media
from tests.support.imports import Importer, item
from tests.support.origin import Origin
from tests.support.stack import Stack


def path(name: str) -> str:
    return f"{uuid.uuid4().hex[:10]}/{name}"


def by_id(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["externalId"]: i for i in status["images"]}


@pytest.mark.parametrize(
    ("body", "mime", "size"),
    [
        (media.jpeg(640, 480), "image/jpeg", (640, 480)),
        (media.png(33, 17), "image/png", (33, 17)),
        (media.gif(20, 10), "image/gif", (20, 10)),
        (media.webp(50, 40), "image/webp", (50, 40)),
        (media.SVG, "image/svg+xml", (120, 80)),
    ],
    ids=["jpeg", "png", "gif", "webp", "svg"],
)
async def test_each_image_type_is_imported_with_its_size(
    importer: Importer, origin: Origin, stack: Stack, body: bytes, mime: str, size: tuple[int, int]
) -> None:
    # The file's name and Content-Type say nothing true: the type comes from the bytes.
    url = origin.file(path("download?format=whatever"), body, content_type="text/plain")

    status, _ = await importer.run([item(url, "pic-1", "Holiday photo")])

    assert status["state"] == "success"
    [result] = status["images"]
    assert result["state"] == result["status"] == "success"
    assert result["action"] == "created"
    image = result["image"]
    assert (image["width"], image["height"]) == size
    assert image["mimeType"] == mime
    assert image["imageService"] == "medialib"
    key = image["originalUrl"].removeprefix("http://media.test/media/")
    assert image["url"] == f"{image['originalUrl']}?auto=format"  # a rendition
    served = await stack.client().get(f"/media/{key}")
    assert served.content == body
    assert served.headers["content-type"] == mime
    entry = (await importer.api.get(f"/api/2026-05/mediaLibrary/{image['mediaId']}")).json()
    assert entry["externalId"] == "pic-1"
    assert entry["systemName"] == "archive"
    assert entry["asset"]["filename"] == f"Holiday photo.{key.rsplit('.', 1)[1]}"
    assert entry["asset"]["sha256"] == hashlib.sha256(body).hexdigest()
    assert "?" not in key
    assert key.count("/") == 3  # YYYY/MM/DD/<uuid>.<ext>


async def test_imported_images_are_found_by_their_words_at_once(
    importer: Importer, origin: Origin
) -> None:
    name, title = f"n{uuid.uuid4().hex[:10]}", f"t{uuid.uuid4().hex[:10]}"
    first = origin.file(path(f"{name}-1.jpg"), media.jpeg(64, 48))
    second = origin.file(path(f"{name}-2.jpg"), media.jpeg(80, 60))

    status, _ = await importer.run(
        [
            item(first, f"{name}-1", f"{name} one"),
            item(second, f"{name}-2", f"{name} two", metadata={"title": title}),
        ]
    )

    made = {i["image"]["mediaId"] for i in status["images"]}
    found = await importer.api.get("/api/2026-05/mediaLibrary", params={"q": name})
    assert {e["id"] for e in found.json()["results"]} == made
    titled = await importer.api.get("/api/2026-05/mediaLibrary", params={"q": title})
    assert [e["externalId"] for e in titled.json()["results"]] == [f"{name}-2"]


async def test_the_status_and_webhook_follow_the_seed_shapes(
    importer: Importer, origin: Origin
) -> None:
    good = origin.file(path("good.jpg"), media.jpeg())
    missing = origin.url(path("missing.jpg"))

    status, delivery = await importer.run(
        [item(good, "ok-1", "my image"), item(missing, "gone-1", "my third image")],
        context={"myIdentifier": "some-identifier-sent-to-the-webhook"},
    )

    assert status["finished"] is True
    assert status["state"] == "success"
    assert status["progress"] == {"total": 2, "done": 2, "success": 1, "skipped": 0, "failed": 1}
    assert status["startedAt"] <= status["finishedAt"]
    results = by_id(status)
    assert set(results["ok-1"]["image"]) == {
        "mediaId",
        "originalUrl",
        "url",
        "width",
        "height",
        "mimeType",
        "imageService",
    }
    assert results["ok-1"]["title"] == "my image"
    assert results["gone-1"] == {
        "state": "failed",
        "status": "failed",
        "reason": "Could not download: the server answered HTTP 404",
        "reasonCode": "http_404",
        "systemName": "archive",
        "externalId": "gone-1",
        "title": "my third image",
    }
    assert delivery.verified
    assert delivery.headers["webhook-id"] == f"msg_{status['id']}"
    assert delivery.body == {
        "source": "livingdocs-image-import",
        "id": status["id"],
        "state": "success",
        "overview": {
            "total": 2,
            "success": 1,
            "skipped": 0,
            "failed": 1,
            "details": {"success": 1, "skipped": 0, "failed": 1},
            "failedItems": [
                {
                    "externalId": "gone-1",
                    "reason": "Could not download: the server answered HTTP 404",
                    "reasonCode": "http_404",
                }
            ],
        },
        "context": {"myIdentifier": "some-identifier-sent-to-the-webhook"},
    }
    assert status["webhook"] == {"state": "delivered", "attempts": 1, "lastStatusCode": 204}


async def test_a_job_whose_items_all_fail_is_failed(importer: Importer, origin: Origin) -> None:
    status, delivery = await importer.run([item(origin.url(path("nothing.png")), "x")])

    assert status["state"] == "failed"
    assert delivery.body["state"] == "failed"


@pytest.mark.parametrize(
    ("serve", "code", "reason"),
    [
        (lambda o, p: o.file(p, media.HTML), "unsupported_type", "text/html"),
        (lambda o, p: o.file(p, media.PDF), "unsupported_type", "application/pdf"),
        (lambda o, p: o.file(p, media.png_bomb()), "too_many_pixels", "40000x40000"),
        (lambda o, p: o.file(p, media.SVG_WITH_SCRIPT), "unsafe_svg", "<script>"),
        (
            lambda o, p: o.file(p, media.truncated(media.jpeg(400, 300))),
            "truncated_image",
            "cut short",
        ),
        (lambda o, p: o.file(p, b"\x89PNG\r\n\x1a\n" + b"garbage" * 100), "invalid_image", "png"),
        (lambda o, p: o.status(p, 404), "http_404", "HTTP 404"),
        (lambda o, p: o.status(p, 403), "http_403", "HTTP 403"),
        (lambda o, p: o.file(p, b""), "empty_body", "empty"),
    ],
    ids=["html", "pdf", "bomb", "svg-script", "truncated", "corrupt", "404", "403", "empty"],
)
async def test_a_bad_item_fails_with_its_reason_and_the_rest_go_on(
    importer: Importer, origin: Origin, serve: Any, code: str, reason: str
) -> None:
    bad = serve(origin, path("bad.jpg"))
    good = origin.file(path("fine.jpg"), media.jpeg())

    status, _ = await importer.run([item(bad, "bad"), item(good, "good")])

    results = by_id(status)
    assert results["bad"]["state"] == "failed"
    assert results["bad"]["reasonCode"] == code
    assert reason in results["bad"]["reason"]
    assert results["good"]["state"] == "success"


async def test_a_client_error_is_not_retried(importer: Importer, origin: Origin) -> None:
    missing = path("missing.jpg")

    await importer.run([item(origin.url(missing), "m")])

    assert origin.hits[missing] == 1


async def test_server_errors_are_retried_until_the_image_comes(
    importer: Importer, origin: Origin
) -> None:
    flaky = path("flaky.jpg")
    url = origin.flaky(flaky, media.jpeg(), failures=2, status=503)

    status, _ = await importer.run([item(url, "f")])

    assert status["images"][0]["state"] == "success"
    assert origin.hits[flaky] == 3


async def test_retries_are_bounded(importer: Importer, origin: Origin) -> None:
    broken = path("broken.jpg")
    url = origin.status(broken, 500)

    status, _ = await importer.run([item(url, "b")])

    assert status["images"][0]["reasonCode"] == "http_500"
    assert origin.hits[broken] == 1 + importer.stack.settings.fetch_retries


async def test_redirects_are_followed_and_checked_at_every_hop(
    importer: Importer, origin: Origin
) -> None:
    target = origin.file(path("target.jpg"), media.jpeg(30, 20))
    hop2 = origin.redirect(path("hop2"), target, status=307)
    hop1 = origin.redirect(path("hop1"), hop2, status=301)
    to_blocked = origin.redirect(
        path("sneaky"), origin.url(path("target.jpg"), host="127.0.0.2"), status=302
    )
    loop_start = path("loop")
    loop = origin.redirect(loop_start, origin.url(loop_start))

    status, _ = await importer.run(
        [item(hop1, "hops"), item(to_blocked, "blocked"), item(loop, "loop")]
    )

    results = by_id(status)
    assert results["hops"]["image"]["width"] == 30
    assert results["blocked"]["reasonCode"] == "blocked_address"
    assert "127.0.0.2" in results["blocked"]["reason"]
    assert results["loop"]["reasonCode"] == "too_many_redirects"
    assert origin.hits[loop_start] == 6


async def test_a_loopback_address_outside_the_allowed_range_is_refused(
    importer: Importer, origin: Origin
) -> None:
    hidden = path("hidden.jpg")
    origin.file(hidden, media.jpeg())

    status, _ = await importer.run(
        [
            item(origin.url(hidden, host="127.0.0.2"), "v4"),
            item(origin.url(hidden, host="[::1]"), "v6"),
            item(origin.url(hidden, host="[::ffff:127.0.0.2]"), "mapped"),
            item(f"http://localhost:{origin.port}/{hidden}", "name"),
        ]
    )

    results = by_id(status)
    for external_id in ("v4", "v6", "mapped"):
        assert results[external_id]["reasonCode"] == "blocked_address", external_id
    # "localhost" resolves to 127.0.0.1 (allowed in tests) or ::1 (refused): all or nothing.
    assert results["name"]["state"] in ("success", "failed")
    assert origin.hits[hidden] <= 1


async def test_a_body_larger_than_the_cap_is_cut_off(make_stack, origin: Origin) -> None:
    stack = await make_stack(image_max_bytes=50_000)
    importer = await Importer.open(stack, "demo")
    declared = origin.file(path("big.jpg"), media.jpeg(2000, 2000) + b"\x00" * 60_000)
    undeclared = origin.endless(path("endless.jpg"), media.jpeg()[:4096])

    status, _ = await importer.run([item(declared, "big"), item(undeclared, "endless")])

    results = by_id(status)
    assert results["big"]["reasonCode"] == "too_large"
    assert results["endless"]["reasonCode"] == "too_large"
    await importer.close()


async def test_an_image_media_type_takes_only_its_types_and_sizes(
    stack: Stack, origin: Origin
) -> None:
    importer = await Importer.open(stack, "typed")
    sources = {
        "png": origin.file(path("d.png"), media.png()),
        "jpeg": origin.file(path("d.jpg"), media.jpeg()),
        "big": origin.file(path("big.png"), media.png(400, 400) + b"\0" * 60_000),
    }
    items = [
        item(url, f"{name}-{uuid.uuid4().hex}", mediaType="diagram")
        for name, url in sources.items()
    ]

    status, _ = await importer.run(items)

    png, jpeg, big = status["images"]
    assert png["state"] == "success"
    assert (jpeg["reasonCode"], big["reasonCode"]) == ("unsupported_type", "too_large")
    assert "media type 'diagram' takes image/png, image/svg+xml" in jpeg["reason"]
    await importer.close()


async def test_a_slow_drip_runs_into_the_deadline(make_stack, origin: Origin) -> None:
    stack = await make_stack(fetch_timeout=0.5, fetch_retries=0)
    importer = await Importer.open(stack, "demo")
    slow = origin.drip(path("slow.jpg"), media.jpeg(), pause=0.05)

    status, _ = await importer.run([item(slow, "slow")])

    assert status["images"][0]["reasonCode"] == "timeout"
    await importer.close()


async def test_an_import_runs_in_the_background(importer: Importer, origin: Origin) -> None:
    gate = asyncio.Event()
    held = origin.gated(path("held.jpg"), media.jpeg(), gate)
    quick = origin.file(path("quick.jpg"), media.jpeg())

    job_id = await importer.start([item(quick, "quick"), item(held, "held")])
    first = await importer.status(job_id)
    gate.set()
    await importer.receiver.delivered()
    last = await importer.status(job_id)

    assert first["finished"] is False
    assert first["state"] == "started"
    assert first["progress"]["total"] == 2
    assert first["progress"]["done"] < 2
    assert "finishedAt" not in first
    assert last["finished"] is True
    assert last["progress"]["done"] == 2


async def test_running_an_import_again_skips_without_downloading(
    importer: Importer, origin: Origin
) -> None:
    one, two = path("one.jpg"), path("two.png")
    items = [
        item(origin.file(one, media.jpeg()), "one", metadata={"caption": "first"}),
        item(origin.file(two, media.png()), "two"),
    ]
    first, _ = await importer.run(items)

    again, _ = await importer.run(items)

    assert [i["state"] for i in again["images"]] == ["skipped", "skipped"]
    assert [i["action"] for i in again["images"]] == ["unchanged", "unchanged"]
    assert {i["reason"] for i in again["images"]} == {"already exists"}
    assert [i["image"] for i in again["images"]] == [i["image"] for i in first["images"]]
    assert origin.hits[one] == origin.hits[two] == 1
    assert again["progress"]["skipped"] == 2


async def test_a_changed_request_updates_the_entry(importer: Importer, origin: Origin) -> None:
    same = origin.file(path("same.jpg"), media.jpeg())
    first, _ = await importer.run([item(same, "u", metadata={"caption": "old"})])
    entry_id = first["images"][0]["image"]["mediaId"]

    metadata_only, _ = await importer.run([item(same, "u", metadata={"caption": "new"})])
    new_bytes = origin.file(path("other.jpg"), media.jpeg(99, 99))
    new_file, _ = await importer.run([item(new_bytes, "u", metadata={"caption": "new"})])

    for status in (metadata_only, new_file):
        [result] = status["images"]
        assert result["state"] == "success"
        assert result["action"] == "updated"
        assert result["image"]["mediaId"] == entry_id
    # The same bytes keep their stored object; other bytes get a new one.
    assert metadata_only["images"][0]["image"]["url"] == first["images"][0]["image"]["url"]
    assert new_file["images"][0]["image"]["url"] != first["images"][0]["image"]["url"]
    entry = (await importer.api.get(f"/api/2026-05/mediaLibrary/{entry_id}")).json()
    assert entry["metadata"] == {"caption": "new"}
    assert entry["version"] == 3
    assert entry["asset"]["width"] == 99


async def test_metadata_that_breaks_the_rules_fails_without_a_download(
    importer: Importer, origin: Origin
) -> None:
    never = path("never.jpg")
    url = origin.file(never, media.jpeg())

    status, _ = await importer.run([item(url, "meta", metadata={"caption": 12, "bogus": "x"})])

    [result] = status["images"]
    assert result["reasonCode"] == "invalid_metadata"
    assert "The value of '/caption' must be string" in result["reason"]
    assert "additional property 'bogus'" in result["reason"]
    assert origin.hits[never] == 0


async def test_another_project_cannot_see_a_job(
    importer: Importer, origin: Origin, stack: Stack
) -> None:
    job_id = await importer.start([item(origin.file(path("p.jpg"), media.jpeg()), "p")])
    await importer.receiver.delivered()
    stranger = await stack.api("other")

    response = await stranger.get("/api/2026-05/import/images/status", params={"id": job_id})
    as_files = await importer.api.get("/api/2026-05/import/files/status", params={"id": job_id})

    assert response.status_code == 404
    assert response.json()["error_details"] == {"id": f"No image import job with id '{job_id}'"}
    assert as_files.status_code == 404


async def test_the_status_needs_the_write_scope(
    importer: Importer, stack: Stack, project: str
) -> None:
    reader = stack.client(await stack.token(project, scopes=("public-api:read",)))

    response = await reader.get("/api/2026-05/import/images/status", params={"id": "x"})

    assert response.status_code == 403
