"""Renditions placed by what the import learnt of a picture, through HTTP on both stacks:
crop=faces keeps the faces its entry's asset stores, crop=focalpoint without fp-x/fp-y goes by
its focal point, and a variant that uses them is named anew when they change.

The pictures are grey with coloured blocks standing for faces: a crop that keeps a block shows
its colour where the test expects it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pytest
from PIL import Image
from skimage import data as photos

from tests.support import pictures
from tests.support.analysed import analysed
from tests.support.entries import (
    STORED_MP4,
    image_asset,
    image_entry,
    import_entries,
    new_key,
    unique,
    video_asset,
)
from tests.support.pictures import BLUE, GREY, RED, colour_at, near
from tests.support.renditions import picture, rendition
from tests.support.stack import Stack

HAAR_CASCADES = Path(cv2.__file__).parent / "data"  # cv2.data.haarcascades, which has no stub
WIDTH, HEIGHT = 800, 400
# The "face": columns 560 .. 640, rows 160 .. 240 of the 800 x 400 picture.
FACE = {"x": 0.7, "y": 0.4, "width": 0.1, "height": 0.2}
# Elsewhere in the picture: columns 80 .. 160.
LEFT_BLOCK = {"x": 0.1, "y": 0.4, "width": 0.1, "height": 0.2}
BY_FACES = "w=200&h=400&fit=crop&crop=faces"  # 1:2: 200 of the 800 columns
BY_POINT = "w=200&h=400&fit=crop&crop=focalpoint"


def blocks(width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """Grey, a red block where FACE is and a blue one where LEFT_BLOCK is."""
    canvas = Image.new("RGB", (width, height), GREY)
    for box, colour in ((FACE, RED), (LEFT_BLOCK, BLUE)):
        left, top = round(box["x"] * width), round(box["y"] * height)
        right = round((box["x"] + box["width"]) * width)
        bottom = round((box["y"] + box["height"]) * height)
        canvas.paste(colour, (left, top, right, bottom))
    return pictures.encode(canvas)


def centre_of(box: dict[str, float]) -> dict[str, Any]:
    return {"x": box["x"] + box["width"] / 2, "y": box["y"] + box["height"] / 2}


@pytest.fixture
async def api(stack: Stack, project: str) -> httpx.AsyncClient:
    return await stack.api(project)


async def image(
    stack: Stack, api: httpx.AsyncClient, data: bytes | None = None, **changes: Any
) -> tuple[str, str]:
    """A new image entry holding `data` (the blocks): its id and its key."""
    key = new_key("jpeg")
    data = data or blocks()
    await stack.put_asset(key, data)
    asset = image_asset(key, size=len(data), width=WIDTH, height=HEIGHT) | changes
    [result] = await import_entries(api, [image_entry(key, asset=asset)])
    assert result["ok"], result
    return result["record"]["id"], key


def colour_at_centre(made: Image.Image) -> tuple[int, int, int]:
    return colour_at(made, made.width // 2, made.height // 2)


async def test_crop_faces_at_1_to_2_keeps_the_face(
    stack: Stack, api: httpx.AsyncClient, project: str
) -> None:
    entry_id, key = await image(stack, api)
    before = await picture(stack, key, BY_FACES)
    assert near(colour_at_centre(before), GREY)  # no faces known yet: the centre is kept

    await analysed(
        stack, project, entry_id, faces=[FACE], focalPoint=centre_of(FACE) | {"source": "faces"}
    )
    made = await picture(stack, key, BY_FACES)

    assert made.size == (200, 400)
    assert near(colour_at_centre(made), RED)
    # the whole face: the crop is columns 500 .. 700, so the face is at 60 .. 140, 160 .. 240
    for x, y in ((62, 162), (137, 162), (62, 237), (137, 237)):
        assert near(colour_at(made, x, y), RED), (x, y)
    assert near(colour_at(made, 50, 200), GREY)
    assert near(colour_at(made, 150, 200), GREY)


def faces_in(picture: Image.Image) -> list[tuple[int, int, int, int]]:
    """The faces OpenCV's frontal face detector finds: x, y, width, height in pixels."""
    detector = cv2.CascadeClassifier(str(HAAR_CASCADES / "haarcascade_frontalface_default.xml"))
    grey = cv2.cvtColor(np.asarray(picture.convert("RGB")), cv2.COLOR_RGB2GRAY)
    found = detector.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(40, 40))
    return [(int(x), int(y), int(w), int(h)) for x, y, w, h in found]


async def test_a_portraits_face_is_kept_by_crop_faces_at_1_to_2(
    stack: Stack, api: httpx.AsyncClient, project: str
) -> None:
    # scikit-image's astronaut at the right of a grey 1536 x 512 strip: a centred 1:2 crop
    # holds only grey.
    strip = Image.new("RGB", (1536, 512), GREY)
    strip.paste(Image.fromarray(photos.astronaut()), (1024, 0))  # type: ignore[no-untyped-call]
    [(x, y, w, h)] = faces_in(strip)
    data = pictures.encode(strip)
    entry_id, key = await image(stack, api, data, width=1536, height=512)
    centred = await picture(stack, key, BY_FACES)
    assert faces_in(centred) == []

    face = {"x": x / 1536, "y": y / 512, "width": w / 1536, "height": h / 512}
    await analysed(stack, project, entry_id, faces=[face])
    made = await picture(stack, key, BY_FACES)

    assert made.size == (200, 400)
    [(fx, fy, fw, _)] = faces_in(made)
    # in the middle of the crop, where and as large as in the picture (shown at 400 / 512)
    assert abs(fx + fw / 2 - 100) < 10
    assert abs(fy - y * 400 / 512) < 15
    assert abs(fw - w * 400 / 512) < 15


async def test_crop_focalpoint_without_fp_uses_the_stored_point(
    stack: Stack, api: httpx.AsyncClient, project: str
) -> None:
    entry_id, key = await image(stack, api)
    await analysed(
        stack,
        project,
        entry_id,
        faces=[],
        focalPoint=centre_of(LEFT_BLOCK) | {"source": "saliency"},
    )

    assert near(colour_at_centre(await picture(stack, key, BY_POINT)), BLUE)
    # fp-x given wins over the stored point
    assert near(colour_at_centre(await picture(stack, key, f"{BY_POINT}&fp-x=0.75")), RED)
    # crop=faces on a picture without faces goes by the focal point
    assert near(colour_at_centre(await picture(stack, key, BY_FACES)), BLUE)


async def test_the_variant_changes_when_the_focal_point_does(
    stack: Stack, api: httpx.AsyncClient, project: str
) -> None:
    entry_id, key = await image(stack, api)
    await analysed(
        stack, project, entry_id, focalPoint=centre_of(LEFT_BLOCK) | {"source": "saliency"}
    )
    first = await rendition(stack, key, BY_POINT)
    plain = await rendition(stack, key, "w=100")
    assert near(colour_at_centre(pictures.decode(first.content)), BLUE)

    await analysed(stack, project, entry_id, focalPoint=centre_of(FACE) | {"source": "editor"})
    renders = stack.renders
    moved = await rendition(stack, key, BY_POINT)
    plain_again = await rendition(stack, key, "w=100")

    assert moved.headers["etag"] != first.headers["etag"]
    assert near(colour_at_centre(pictures.decode(moved.content)), RED)
    # a variant the focal point does not place keeps its name, and its stored bytes
    assert plain_again.headers["etag"] == plain.headers["etag"]
    assert stack.renders == renders + 1
    assert len(await stack.runtime.storage.list_keys(f"v/{key}")) == 3
    # a client holding the old variant is not told it still holds the picture
    asked = await stack.client().get(
        f"/media/{key}?{BY_POINT}", headers={"If-None-Match": first.headers["etag"]}
    )
    assert asked.status_code == 200


async def test_faces_of_a_picture_turned_by_its_exif_orientation_are_where_it_shows_them(
    stack: Stack, api: httpx.AsyncClient, project: str
) -> None:
    # Stored as a camera stores it, 400 x 800, turned a quarter; shown 800 x 400.
    turned = pictures.decode(blocks()).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[pictures.ORIENTATION] = 6
    entry_id, key = await image(stack, api, pictures.encode(turned, exif=exif.tobytes()))
    await analysed(stack, project, entry_id, faces=[FACE])

    assert near(colour_at_centre(await picture(stack, key, BY_FACES)), RED)


async def test_a_posters_faces_place_its_crop(
    stack: Stack, api: httpx.AsyncClient, project: str
) -> None:
    key, poster = new_key("mp4"), new_key("jpeg")
    await stack.put_asset(key, STORED_MP4)
    await stack.put_asset(poster, blocks(640, 480))
    entry = {
        "systemName": "archive",
        "externalId": unique("clip"),
        "mediaType": "video",
        "asset": video_asset(key, poster),
        "metadata": {"title": "A clip"},
    }
    [result] = await import_entries(api, [entry])
    assert result["ok"], result
    await analysed(stack, project, result["record"]["id"], faces=[FACE])

    made = await picture(stack, poster, "w=100&h=200&fit=crop&crop=faces")
    assert made.size == (100, 200)
    assert near(colour_at_centre(made), RED)


async def test_an_object_shared_by_entries_goes_by_the_point_an_editor_placed(
    stack: Stack, api: httpx.AsyncClient, project: str
) -> None:
    older, key = await image(stack, api)
    [result] = await import_entries(
        api,
        [
            image_entry(
                key,
                asset=image_asset(key, size=len(blocks()), width=WIDTH, height=HEIGHT, shared=True),
            )
        ],
    )
    assert result["ok"], result
    newer = result["record"]["id"]
    await analysed(stack, project, older, focalPoint=centre_of(LEFT_BLOCK) | {"source": "saliency"})
    assert near(colour_at_centre(await picture(stack, key, BY_POINT)), BLUE)  # the oldest's

    await analysed(stack, project, newer, focalPoint=centre_of(FACE) | {"source": "editor"})

    assert near(colour_at_centre(await picture(stack, key, BY_POINT)), RED)


# What an entry's asset may hold where focalPoint and faces go, by a bug or a hand: every
# rendition is made, centred as if nothing were stored.
HOSTILE: list[dict[str, Any]] = [
    {"faces": "everyone", "focalPoint": "middle"},
    {"faces": {"x": 0.7}, "focalPoint": [0.75, 0.5]},
    {"faces": [None, 7, "face", [0.7, 0.4, 0.1, 0.2]], "focalPoint": None},
    {"faces": [{"x": 0.7, "y": 0.4}], "focalPoint": {"x": 0.75}},  # missing keys
    {"faces": [FACE | {"x": -0.3}], "focalPoint": {"x": -1, "y": 0.5}},
    {"faces": [FACE | {"width": 7}], "focalPoint": {"x": 1.5, "y": 0.5}},
    {"faces": [FACE | {"y": "0.4"}], "focalPoint": {"x": "0.75", "y": "0.5"}},
    {"faces": [FACE | {"x": True}], "focalPoint": {"x": True, "y": False}},
    {"faces": [FACE | {"height": 1e300}], "focalPoint": {"x": 2**62, "y": -1e300}},
    {"faces": [FACE | {"x": {"$gt": 0}}], "focalPoint": {"x": [], "y": {}}},
    {"faces": [{"x": 1, "y": 1, "width": 0.5, "height": 0.5}] * 5000},  # past the edge, many
    {"poster": {"faces": [FACE]}, "translations": "none"},  # a poster without a key
]


@pytest.mark.parametrize("stored", HOSTILE, ids=[str(i) for i in range(len(HOSTILE))])
async def test_hostile_focus_in_the_entry_gives_the_default_crop(
    stack: Stack, api: httpx.AsyncClient, project: str, stored: dict[str, Any]
) -> None:
    entry_id, key = await image(stack, api)
    await analysed(stack, project, entry_id, **stored)
    for query in (BY_FACES, BY_POINT, f"{BY_FACES},focalpoint&fm=png"):
        made = await rendition(stack, key, query)
        assert made.status_code == 200, (query, made.text)
        assert near(colour_at_centre(pictures.decode(made.content)), GREY), query
