"""POST /import/files and its status (seed 002)."""

from __future__ import annotations

import uuid

from tests.support import media
from tests.support.imports import Importer, item
from tests.support.origin import Origin
from tests.support.stack import Stack


def path(name: str) -> str:
    return f"{uuid.uuid4().hex[:10]}/{name}"


async def test_a_file_is_imported_and_reported_as_in_seed_002(
    importer: Importer, origin: Origin, stack: Stack
) -> None:
    pdf = origin.file(path("report.pdf"), media.PDF)
    missing = origin.url(path("missing.pdf"))

    status, delivery = await importer.run(
        [item(pdf, "doc-1", "Annual report"), item(missing, "doc-2")], kind="files"
    )

    assert status["state"] == "success"
    ok, failed = status["files"]
    assert ok["state"] == ok["status"] == "success"
    assert ok["action"] == "created"
    assert ok["systemName"] == "archive"
    assert ok["externalId"] == "doc-1"
    assert "image" not in ok
    assert failed["reasonCode"] == "http_404"
    assert "mediaId" not in failed
    assert delivery.body["source"] == "livingdocs-file-import"
    entry = (await importer.api.get(f"/api/2026-05/mediaLibrary/{ok['mediaId']}")).json()
    assert entry["mediaType"] == "file"
    assert entry["asset"]["mimeType"] == "application/pdf"
    assert entry["asset"]["filename"] == "Annual report.pdf"
    assert "width" not in entry["asset"]
    served = await stack.client().get(entry["asset"]["url"].removeprefix("http://media.test"))
    assert served.content == media.PDF


async def test_html_is_never_imported_as_a_file(importer: Importer, origin: Origin) -> None:
    page = origin.file(path("page.pdf"), media.HTML, content_type="application/pdf")

    status, _ = await importer.run([item(page, "page")], kind="files")

    assert status["files"][0]["reasonCode"] == "unsupported_type"


async def test_an_svg_file_must_be_as_safe_as_an_svg_image(
    importer: Importer, origin: Origin
) -> None:
    script = origin.file(path("drawing.svg"), media.SVG_WITH_SCRIPT)

    status, _ = await importer.run([item(script, "svg")], kind="files")

    assert status["files"][0]["reasonCode"] == "unsafe_svg"


async def test_a_media_type_takes_only_its_allowed_types(stack: Stack, origin: Origin) -> None:
    importer = await Importer.open(stack, "typed")
    pdf = origin.file(path("ok.pdf"), media.PDF)
    picture = origin.file(path("photo.jpg"), media.jpeg())

    status, _ = await importer.run(
        [
            item(pdf, f"pdf-{uuid.uuid4().hex}", mediaType="document", metadata={"title": "t"}),
            item(picture, f"jpg-{uuid.uuid4().hex}", mediaType="document", metadata={"title": "t"}),
        ],
        kind="files",
    )

    ok, refused = status["files"]
    assert ok["state"] == "success"
    assert refused["reasonCode"] == "unsupported_type"
    assert "takes application/pdf" in refused["reason"]
    await importer.close()


async def test_the_file_size_cap_applies(make_stack, origin: Origin) -> None:
    stack = await make_stack(file_max_bytes=1000)
    importer = await Importer.open(stack, "demo")
    big = origin.file(path("big.pdf"), media.PDF + b"%" * 2000)

    status, _ = await importer.run([item(big, "big")], kind="files")

    assert status["files"][0]["reasonCode"] == "too_large"
    await importer.close()
