"""SVGs through every way into the library (trust issue, SVG): a URL import as an image or a
file, the synchronous import and replaceAsset. Each takes what editors, chart libraries and
icon sets write, and refuses, with `unsafe_svg` and what it found, whatever could script,
navigate or load once the SVG is opened on its own (from a bucket, say). The synchronous import
refuses what a URL import refuses, an HTML page included."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from medialib.media.probe.svg import SVG_MAX_BYTES
from tests.support import media, svgs
from tests.support.entries import image_asset, image_entry, import_entries, new_key, stored_image
from tests.support.imports import Importer, item
from tests.support.origin import Origin
from tests.support.stack import Stack


def path(name: str) -> str:
    return f"{uuid.uuid4().hex[:10]}/{name}"


def svg_asset(key: str, body: bytes, size: tuple[int, int] = (10, 10)) -> dict[str, Any]:
    width, height = size
    return image_asset(
        key, size=len(body), width=width, height=height, mimeType="image/svg+xml", filename="a.svg"
    )


def file_entry(key: str, body: bytes, mime: str = "image/svg+xml") -> dict[str, Any]:
    asset = {"key": key, "size": len(body), "filename": "a.svg", "mimeType": mime}
    return image_entry(key, mediaType="file", asset=asset)


def problems(result: dict[str, Any]) -> dict[str, str]:
    assert result["ok"] is False, result
    return {e["property"]: e["message"] for e in result["error_details"]["errors"]}


async def stored(stack: Stack, body: bytes, extension: str = "svg") -> str:
    key = new_key(extension)
    await stack.put_asset(key, body)
    return key


# --- URL imports ------------------------------------------------------------------------------


async def test_a_url_import_takes_ordinary_svgs_as_images_and_files(
    importer: Importer, origin: Origin
) -> None:
    urls = [origin.file(path(f"{name}.svg"), body) for name, body, _ in svgs.ORDINARY]

    images, _ = await importer.run([item(url, f"i-{uuid.uuid4()}") for url in urls])
    files, _ = await importer.run([item(url, f"f-{uuid.uuid4()}") for url in urls], kind="files")

    for (name, _, size), image, file in zip(
        svgs.ORDINARY, images["images"], files["files"], strict=True
    ):
        assert image["state"] == "success", (name, image)
        assert (image["image"]["width"], image["image"]["height"]) == size, name
        assert file["state"] == "success", (name, file)


async def test_a_url_import_refuses_hostile_svgs_as_images_and_files(
    importer: Importer, origin: Origin
) -> None:
    urls = [origin.file(path(f"{name}.svg"), body) for name, body, _ in svgs.HOSTILE]

    images, _ = await importer.run([item(url, f"i-{uuid.uuid4()}") for url in urls])
    files, _ = await importer.run([item(url, f"f-{uuid.uuid4()}") for url in urls], kind="files")

    for (name, _, words), image, file in zip(
        svgs.HOSTILE, images["images"], files["files"], strict=True
    ):
        for result in (image, file):
            assert (result["state"], result["reasonCode"]) == ("failed", "unsafe_svg"), name
            assert words in result["reason"], (name, result["reason"])


# --- the synchronous import and replaceAsset --------------------------------------------------


async def test_registering_takes_ordinary_svgs_with_their_true_size_only(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    entries, made_up = [], []
    for _, body, (width, height) in svgs.ORDINARY:
        image, file, other = [await stored(stack, body) for _ in range(3)]
        entries += [
            image_entry(image, asset=svg_asset(image, body, (width, height))),
            file_entry(file, body),
        ]
        made_up.append(image_entry(other, asset=svg_asset(other, body, (width + 1, height))))

    results = await import_entries(api, entries + made_up)

    taken, refused = results[: len(entries)], results[len(entries) :]
    assert [r for r in taken if not r["ok"]] == []
    for (name, _, (width, height)), result in zip(svgs.ORDINARY, refused, strict=True):
        assert problems(result) == {
            "asset.width": f"{width + 1}x{height} is not the stored image's {width}x{height}"
        }, name


async def test_registering_refuses_hostile_svgs_as_images_and_files(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    entries = []
    for _, body, _ in svgs.HOSTILE:
        key = await stored(stack, body)
        entries += [
            image_entry(key, asset=svg_asset(key, body)),
            file_entry(key, body, mime="application/octet-stream"),
        ]
    before = await stack.snapshot(project)

    results = await import_entries(api, entries)

    for i, (name, _, words) in enumerate(svgs.HOSTILE):
        for result in results[2 * i : 2 * i + 2]:
            refused = problems(result)["asset.key"]
            assert refused.startswith("is refused (unsafe_svg): the SVG "), (name, refused)
            assert words in refused, (name, refused)
    assert await stack.snapshot(project) == before


async def test_an_svg_image_is_registered_with_its_own_size_only(
    stack: Stack, project: str
) -> None:
    """The attack: an SVG with a script, registered as a 10x10 image. The size is the SVG's."""
    api = await stack.api(project)
    script, plain = await stored(stack, media.SVG_WITH_SCRIPT), await stored(stack, media.SVG)

    results = await import_entries(
        api,
        [
            image_entry(script, asset=svg_asset(script, media.SVG_WITH_SCRIPT)),
            image_entry(plain, asset=svg_asset(plain, media.SVG, (10, 10))),
            image_entry(plain, asset=svg_asset(plain, media.SVG, (120, 80))),
        ],
    )

    assert problems(results[0]) == {
        "asset.key": "is refused (unsafe_svg): the SVG has a <script> element"
    }
    assert problems(results[1]) == {"asset.width": "10x10 is not the stored image's 120x80"}
    assert results[2]["ok"], results[2]


async def test_a_large_svg_is_checked_whole(stack: Stack, project: str) -> None:
    """Past the first bytes (read for a raster's header) and in pieces; beyond the cap a URL
    import takes, refused as too large."""
    api = await stack.api(project)
    paths = b"".join(b'<path d="M%d 0h1v1z" fill="#123"/>' % i for i in range(70_000))
    clean = b'<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480">%s</svg>' % paths
    late_script = clean.replace(b"</svg>", b"<script>alert(1)</script></svg>")
    too_large = clean.replace(b"</svg>", b"<desc>%s</desc></svg>" % (b"x" * SVG_MAX_BYTES))
    keys = [await stored(stack, body) for body in (clean, late_script, too_large)]

    results = await import_entries(
        api,
        [
            image_entry(key, asset=svg_asset(key, body, (640, 480)))
            for key, body in zip(keys, (clean, late_script, too_large), strict=True)
        ],
    )

    assert len(clean) > 2 * 1024 * 1024
    assert results[0]["ok"], results[0]
    assert problems(results[1]) == {
        "asset.key": "is refused (unsafe_svg): the SVG has a <script> element"
    }
    assert problems(results[2])["asset.key"].startswith("is refused (too_large): ")


async def test_replace_asset_refuses_a_hostile_svg(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)
    _, body, words = svgs.HOSTILE[0]
    key = await stored(stack, body)

    response = await api.patch(
        f"/api/2026-05/mediaLibrary/{record['id']}",
        json={
            "version": 1,
            "patches": [{"operation": "replaceAsset", "value": svg_asset(key, body)}],
        },
    )

    assert response.status_code == 400, response.text
    refused = response.json()["error_details"]["patches.0.value.key"]
    assert refused.startswith("is refused (unsafe_svg): ")
    assert words in refused
    assert (await api.get(f"/api/2026-05/mediaLibrary/{record['id']}")).json() == record


async def test_replace_asset_takes_an_ordinary_svg_with_its_own_size(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)
    _, body, size = svgs.ORDINARY[1]  # Illustrator's, with its document type
    key = await stored(stack, body)

    async def replace(value: dict[str, Any]) -> httpx.Response:
        patch = {"operation": "replaceAsset", "value": value}
        return await api.patch(
            f"/api/2026-05/mediaLibrary/{record['id']}", json={"version": 1, "patches": [patch]}
        )

    made_up = await replace(svg_asset(key, body, (10, 10)))
    response = await replace(svg_asset(key, body, size))

    assert made_up.status_code == 400, made_up.text
    assert made_up.json()["error_details"] == {
        "patches.0.value.width": "10x10 is not the stored image's 400x120"
    }
    assert response.status_code == 200, response.text
    asset = (await api.get(f"/api/2026-05/mediaLibrary/{record['id']}")).json()["asset"]
    assert (asset["key"], asset["width"], asset["height"]) == (key, *size)


async def test_registering_refuses_an_html_page_as_a_url_import_does(
    stack: Stack, project: str
) -> None:
    """A URL file import refuses an HTML page (unsupported_type); so does registering one,
    whatever type its asset says. And no asset may say a page's type of any bytes: a URL
    import never records one."""
    api = await stack.api(project)
    minutes = b"Minutes of the meeting <script>alert(1)</script>"
    pages = [await stored(stack, media.HTML, "html") for _ in range(2)]
    texts = [await stored(stack, minutes, "txt") for _ in range(3)]
    said = ("text/html", "Text/HTML", "application/xhtml+xml")

    results = await import_entries(
        api,
        [
            file_entry(pages[0], media.HTML, "application/pdf"),
            image_entry(pages[1], asset=svg_asset(pages[1], media.HTML)),
            *(file_entry(key, minutes, mime) for key, mime in zip(texts, said, strict=True)),
        ],
    )

    assert problems(results[0]) == {
        "asset.key": "is refused (unsupported_type): the bytes are an HTML page"
    }
    assert problems(results[1])["asset.key"].startswith("is refused (unsupported_type)")
    for result, mime in zip(results[2:], said, strict=True):
        assert problems(result) == {
            "asset.mimeType": f"is {mime}: a page is not an asset medialib serves"
        }


async def test_a_type_in_capitals_is_checked_against_the_bytes(stack: Stack, project: str) -> None:
    """`IMAGE/SVG+XML` is served as an SVG: a file that says so must be one, and a safe one."""
    api = await stack.api(project)
    text = b'hello <svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
    key = await stored(stack, text, "txt")

    [result] = await import_entries(api, [file_entry(key, text, "IMAGE/SVG+XML")])

    assert problems(result) == {
        "asset.mimeType": "is IMAGE/SVG+XML, but the stored bytes are text/plain"
    }
