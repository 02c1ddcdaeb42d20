"""The analysis of imported pictures, end to end on both stacks with real photos (scikit-image's):
near-duplicates named in the item results and listed by the API, placeholders and colours,
focal points on faces, crops that keep the face; registered entries analysed after the commit;
a library imported before the analysis analysed by `medialib analyze`'s run."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import numpy as np
import pytest
import skimage.data
import sqlalchemy as sa
from PIL import Image

from medialib.db.tables import analysis_runs, perceptual_hashes
from medialib.library.analysis import start_run
from medialib.library.focal_points import editor_point, place_focal_point
from medialib.media.analysis import thumbhash
from tests.support import entries
from tests.support.analysed import forget_analysis
from tests.support.imports import Importer, item
from tests.support.origin import Origin
from tests.support.stack import Stack

API = "/api/2026-05"
# Eileen Collins' face in skimage's astronaut (512 x 512), as fractions: x 0.31..0.49, y 0.06..0.33
FACE = (0.31, 0.06, 0.49, 0.33)


def encoded(picture: Image.Image, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    picture.save(out, fmt, **options)
    return out.getvalue()


def photo(name: str) -> Image.Image:
    """One of scikit-image's photos (its functions are untyped: looked up by name)."""
    return Image.fromarray(getattr(skimage.data, name)()).convert("RGB")


ASTRONAUT = photo("astronaut")
COFFEE = photo("coffee")


def on_face(point: dict[str, Any]) -> bool:
    left, top, right, bottom = FACE
    x, y = float(point["x"]), float(point["y"])
    return left <= x <= right and top <= y <= bottom


def folder() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
async def stack(make_stack: Callable[..., Awaitable[Stack]]) -> Stack:
    """A medialib that analyses pictures (the shared test stack does not)."""
    return await make_stack(image_analysis=True)


@pytest.fixture
def project() -> str:
    return "demo"  # the stack is the test's own


@pytest.fixture
async def importer(stack: Stack, project: str) -> AsyncIterator[Importer]:
    made = await Importer.open(stack, project)
    yield made
    await made.close()


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 60) -> None:
    """Wait for what a background task writes (it sends no event): look again every 20 ms."""
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.02)


async def test_a_resized_reencoded_png_copy_is_named_as_a_near_duplicate(
    importer: Importer, origin: Origin
) -> None:
    at = folder()
    original = origin.file(f"{at}/astronaut.jpg", encoded(ASTRONAUT, "JPEG", quality=90))
    status, _ = await importer.run([item(original, "astronaut")])
    [first] = status["images"]
    image = first["image"]
    assert "similarTo" not in first
    assert on_face(image["focalPoint"])
    assert image["focalPoint"]["source"] == "faces"
    assert image["placeholder"]
    assert image["color"].startswith("#")

    copy = ASTRONAUT.resize((256, 256), Image.Resampling.LANCZOS)
    urls = {
        "copy": origin.file(f"{at}/copy.png", encoded(copy, "PNG")),
        "coffee": origin.file(f"{at}/coffee.jpg", encoded(COFFEE, "JPEG", quality=80)),
    }
    status, _ = await importer.run([item(url, name) for name, url in urls.items()])
    found = {i["externalId"]: i for i in status["images"]}

    assert found["copy"]["action"] == "created"  # not skipped: the caller decides
    [near] = found["copy"]["similarTo"]
    assert near["mediaId"] == image["mediaId"]
    assert 0 <= near["distance"] <= 10
    assert "similarTo" not in found["coffee"]

    listed = await importer.api.get(f"{API}/mediaLibrary", params={"similarTo": image["mediaId"]})
    assert listed.status_code == 200, listed.text
    assert [e["id"] for e in listed.json()["results"]] == [found["copy"]["image"]["mediaId"]]


async def test_placeholders_decode_to_the_pictures_shape_and_colour(
    importer: Importer, origin: Origin
) -> None:
    wide = Image.new("RGB", (400, 200), (20, 120, 200))
    url = origin.file(f"{folder()}/wide.png", encoded(wide, "PNG"))
    status, _ = await importer.run([item(url, "wide")])
    image = status["images"][0]["image"]

    assert image["color"] == "#1478c8"
    # ThumbHash keeps the shape roughly (a side of 7 cells and the other rounded): 7:4 here
    assert thumbhash.aspect_ratio(image["placeholder"]) == pytest.approx(2.0, rel=0.15)
    red, green, blue, _ = thumbhash.average_rgba(image["placeholder"])
    assert (red * 255, green * 255, blue * 255) == pytest.approx((20, 120, 200), abs=12)
    entry = (await importer.api.get(f"{API}/mediaLibrary/{image['mediaId']}")).json()
    assert entry["asset"]["placeholder"] == image["placeholder"]
    assert entry["asset"]["focalPoint"]["source"] == "saliency"


async def test_crop_faces_keeps_the_face(importer: Importer, origin: Origin, stack: Stack) -> None:
    url = origin.file(f"{folder()}/astronaut.jpg", encoded(ASTRONAUT, "JPEG", quality=90))
    status, _ = await importer.run([item(url, "portrait")])
    key = status["images"][0]["image"]["originalUrl"].removeprefix("http://media.test/media/")

    served = await stack.client().get(
        f"/media/{key}", params={"w": 100, "h": 200, "fit": "crop", "crop": "faces"}
    )
    assert served.status_code == 200, served.text
    crop = Image.open(io.BytesIO(served.content))
    assert crop.size == (100, 200)
    # The crop is a 256 x 512 column of the 512 x 512 picture: it holds the whole face box.
    left, _, right, _ = FACE
    column = served_column(crop, ASTRONAUT)
    assert column[0] <= left * 512
    assert right * 512 <= column[1]


def served_column(crop: Image.Image, picture: Image.Image) -> tuple[float, float]:
    """Where the full-height crop's column lies in the picture: the offset whose columns match
    the crop's best (the crop is the column scaled down by 2.56)."""
    scaled = picture.resize((200, 200), Image.Resampling.BILINEAR).convert("L")
    small = crop.resize((100, 200), Image.Resampling.BILINEAR).convert("L")
    best, at = None, 0
    for offset in range(0, 101):
        window = scaled.crop((offset, 0, offset + 100, 200))
        diff = int(np.abs(np.asarray(window, dtype=int) - np.asarray(small, dtype=int)).sum())
        if best is None or diff < best:
            best, at = diff, offset
    return at * 512 / 200, (at + 100) * 512 / 200


async def test_registered_pictures_are_analysed_after_the_commit(
    stack: Stack, project: str
) -> None:
    key, body = entries.new_key(), encoded(ASTRONAUT, "JPEG", quality=90)
    await stack.put_asset(key, body)
    api = await stack.api(project)
    asset = entries.image_asset(key, size=len(body), width=512, height=512)
    [result] = await entries.import_entries(api, [entries.image_entry(key, asset=asset)])
    assert result["ok"], str(result)
    media_id = result["record"]["id"]

    async def analysed() -> bool:
        got: dict[str, Any] = (await api.get(f"{API}/mediaLibrary/{media_id}")).json()
        return "focalPoint" in got["asset"]

    await until(analysed)
    asset = (await api.get(f"{API}/mediaLibrary/{media_id}")).json()["asset"]
    assert on_face(asset["focalPoint"])
    async with stack.runtime.db.read() as conn:
        held = await conn.scalar(
            sa.select(sa.func.count()).where(
                perceptual_hashes.c.project == project, perceptual_hashes.c.entry_id == media_id
            )
        )
    assert held == 1


async def test_medialib_analyze_works_through_older_entries(
    importer: Importer, origin: Origin, stack: Stack, project: str
) -> None:
    at = folder()
    pictures = {
        f"old-{i}": origin.file(f"{at}/{i}.jpg", encoded(picture, "JPEG", quality=85))
        for i, picture in enumerate(
            [ASTRONAUT, COFFEE, ASTRONAUT.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
        )
    }
    status, _ = await importer.run([item(url, name) for name, url in pictures.items()])
    ids = [i["image"]["mediaId"] for i in status["images"]]
    await forget_analysis(stack, project, ids)  # as a library imported before it existed

    run = await stack.runtime.db.transact(lambda tx: start_run(tx, project))
    assert run.total >= 3
    assert not run.done

    async def done() -> bool:
        async with stack.runtime.db.read() as conn:
            finished = await conn.scalar(
                sa.select(analysis_runs.c.finished_at).where(analysis_runs.c.project == project)
            )
        return finished is not None

    await until(done)
    for media_id in ids:
        asset = (await importer.api.get(f"{API}/mediaLibrary/{media_id}")).json()["asset"]
        assert {"placeholder", "color", "focalPoint", "perceptualHash"} <= set(asset)
    listed = await importer.api.get(f"{API}/mediaLibrary", params={"similarTo": ids[0]})
    assert ids[1] not in [e["id"] for e in listed.json()["results"]]


async def test_an_editors_focal_point_outlives_a_new_import_of_the_entry(
    importer: Importer, origin: Origin, stack: Stack, project: str
) -> None:
    at = folder()
    first = origin.file(f"{at}/1.jpg", encoded(COFFEE, "JPEG", quality=85))
    status, _ = await importer.run([item(first, "kept")])
    media_id = status["images"][0]["image"]["mediaId"]
    configured = stack.runtime.projects[project]
    await place_focal_point(stack.runtime.db, configured, media_id, editor_point(0.1, 0.9))

    again = origin.file(f"{at}/2.jpg", encoded(COFFEE, "JPEG", quality=60))
    status, _ = await importer.run([item(again, "kept")])

    assert status["images"][0]["action"] == "updated"
    assert "similarTo" not in status["images"][0]  # its old picture is not its near-duplicate
    point = status["images"][0]["image"]["focalPoint"]
    assert point == {"x": 0.1, "y": 0.9, "source": "editor"}


async def test_near_duplicates_within_one_job_are_named(importer: Importer, origin: Origin) -> None:
    at = folder()
    urls = {
        "first": origin.file(f"{at}/a.jpg", encoded(COFFEE, "JPEG", quality=90)),
        "second": origin.file(f"{at}/b.webp", encoded(COFFEE.resize((300, 200)), "WEBP")),
    }
    status, _ = await importer.run([item(url, name) for name, url in urls.items()])
    found = {i["externalId"]: i for i in status["images"]}
    ids = {name: one["image"]["mediaId"] for name, one in found.items()}

    # Recorded together, each names the other; one after the other, the later names the earlier.
    named = {name: [n["mediaId"] for n in one.get("similarTo", [])] for name, one in found.items()}
    assert ids["first"] in named["second"] or ids["second"] in named["first"]
    assert ids["first"] not in named["first"]
    assert ids["second"] not in named["second"]


FORGED = {
    "perceptualHash": "0000000000000000",
    "placeholder": "AAAA",
    "color": "#000000",
    "focalPoint": {"x": 0.99, "y": 0.99, "source": "editor"},
    "faces": [{"x": 0.9, "y": 0.9, "width": 0.1, "height": 0.1}],
}


async def test_what_a_caller_says_of_the_analysis_is_ignored_and_lists_post_back(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    key, body = entries.new_key(), encoded(ASTRONAUT, "JPEG", quality=90)
    await stack.put_asset(key, body)
    asset = entries.image_asset(key, size=len(body), width=512, height=512) | FORGED
    [result] = await entries.import_entries(api, [entries.image_entry(key, asset=asset)])
    assert result["ok"], str(result)
    assert not set(FORGED) & set(result["record"]["asset"])  # medialib's own, not the caller's
    original = result["record"]["id"]

    async def analysed() -> bool:
        got: dict[str, Any] = (await api.get(f"{API}/mediaLibrary/{original}")).json()
        return "focalPoint" in got["asset"]

    await until(analysed)
    asset = (await api.get(f"{API}/mediaLibrary/{original}")).json()["asset"]
    assert asset["perceptualHash"] != FORGED["perceptualHash"]
    assert on_face(asset["focalPoint"])
    assert asset["focalPoint"]["source"] == "faces"

    # A copy registered from what the API shows of the entry (its analysis, and the distance a
    # similarTo list adds) is taken: what is medialib's own is read again, not believed.
    copy_key = entries.new_key()
    await stack.put_asset(copy_key, body)
    shown = (await api.get(f"{API}/mediaLibrary/{original}")).json()
    shown = {k: v for k, v in shown.items() if k not in ("id", "externalId")}
    shown["asset"] = shown["asset"] | {"key": copy_key, "shared": None}
    shown["asset"] = {k: v for k, v in shown["asset"].items() if v is not None}
    [copied] = await entries.import_entries(api, [shown | {"similarity": {"distance": 0}}])
    assert copied["ok"], str(copied)

    hostile: list[dict[str, Any]] = [
        {"faces": "all of them"},
        {"faces": [{"x": "left"}]},
        {"focalPoint": [0.5, 0.5]},
        {"placeholder": "x" * 101},
        {"color": {"r": 1}},
        {"perceptualHash": 12},
    ]
    for fields in hostile:
        bad = entries.image_asset(entries.new_key(), size=len(body), width=512) | fields
        [refused] = await entries.import_entries(api, [entries.image_entry(bad["key"], asset=bad)])
        assert refused["status"] == 400, (fields, refused)


async def test_an_edit_while_the_analysis_runs_keeps_both(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    key, body = entries.new_key(), encoded(ASTRONAUT, "JPEG", quality=90)
    await stack.put_asset(key, body)
    asset = entries.image_asset(key, size=len(body), width=512, height=512)
    [result] = await entries.import_entries(api, [entries.image_entry(key, asset=asset)])
    media_id = result["record"]["id"]
    # At once: before or after the analysis lands, whichever comes first.
    edit = {
        "version": 1,
        "patches": [
            {"operation": "setMetadataProperty", "propertyName": "title", "value": "Edited"}
        ],
    }
    assert (await api.patch(f"{API}/mediaLibrary/{media_id}", json=edit)).status_code == 200

    async def analysed() -> bool:
        got: dict[str, Any] = (await api.get(f"{API}/mediaLibrary/{media_id}")).json()
        return "focalPoint" in got["asset"]

    await until(analysed)
    entry = (await api.get(f"{API}/mediaLibrary/{media_id}")).json()
    assert entry["metadata"]["title"] == "Edited"
    assert on_face(entry["asset"]["focalPoint"])


async def test_replacing_an_asset_by_itself_keeps_its_analysis_and_the_editors_point(
    importer: Importer, origin: Origin, stack: Stack, project: str
) -> None:
    url = origin.file(f"{folder()}/a.jpg", encoded(COFFEE, "JPEG", quality=85))
    status, _ = await importer.run([item(url, "replaced")])
    media_id = status["images"][0]["image"]["mediaId"]
    configured = stack.runtime.projects[project]
    await place_focal_point(stack.runtime.db, configured, media_id, editor_point(0.2, 0.3))
    shown = (await importer.api.get(f"{API}/mediaLibrary/{media_id}")).json()

    # The asset as the API shows it, sent back with another file name.
    asset = shown["asset"] | {"filename": "renamed.jpeg"}
    patch = {
        "version": shown["version"],
        "patches": [{"operation": "replaceAsset", "value": asset}],
    }
    answer = await importer.api.patch(f"{API}/mediaLibrary/{media_id}", json=patch)

    assert answer.status_code == 200, answer.text
    after = (await importer.api.get(f"{API}/mediaLibrary/{media_id}")).json()["asset"]
    assert after["filename"] == "renamed.jpeg"
    assert after["focalPoint"] == {"x": 0.2, "y": 0.3, "source": "editor"}
    for name in ("perceptualHash", "placeholder", "color"):
        assert after[name] == shown["asset"][name]
