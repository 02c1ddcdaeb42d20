"""Renditions through HTTP on both stacks (SQLite + a local folder, PostgreSQL + S3): imgix's
parameters, checked by decoding what comes back."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from PIL import Image, IptcImagePlugin

from tests.support import pictures
from tests.support.entries import image_asset, image_entry, import_entries, new_key
from tests.support.media import png_bomb
from tests.support.pictures import BLUE, GREEN, RED, YELLOW, colour_at, decode, near
from tests.support.renditions import picture, rendition, stored
from tests.support.stack import Stack


@pytest.fixture
async def api(stack: Stack, project: str) -> httpx.AsyncClient:
    return await stack.api(project)


@pytest.fixture
async def quadrants(stack: Stack, api: httpx.AsyncClient) -> str:
    """A 200 x 100 JPEG: red, green / blue, yellow."""
    return await stored(stack, api, pictures.encode(pictures.quadrants()), width=200, height=100)


async def test_without_parameters_the_original_is_served(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    data = pictures.encode(pictures.quadrants())
    key = await stored(stack, api, data)
    served = await stack.client().get(f"/media/{key}")
    assert served.content == data
    unknown = await stack.client().get(f"/media/{key}?utm_source=newsletter&v=2")
    assert unknown.content == data  # imgix ignores parameters it does not know


async def test_width_keeps_the_aspect_ratio_and_is_cached_for_good(
    stack: Stack, quadrants: str
) -> None:
    before = stack.renders
    first = await rendition(stack, quadrants, "w=100")
    assert first.status_code == 200
    assert first.headers["content-type"] == "image/jpeg"
    assert first.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "vary" not in first.headers  # no auto=format: the same bytes for every client
    assert decode(first.content).size == (100, 50)
    again = await rendition(stack, quadrants, "w=100")
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    assert stack.renders == before + 1  # the second came from storage
    unchanged = await stack.client().get(
        f"/media/{quadrants}?w=100", headers={"If-None-Match": first.headers["etag"]}
    )
    assert unchanged.status_code == 304
    assert unchanged.content == b""


async def test_the_variant_is_stored_under_the_originals_key(
    stack: Stack, api: httpx.AsyncClient, quadrants: str
) -> None:
    await rendition(stack, quadrants, "w=60&fm=webp")
    variants = await stack.runtime.storage.list_keys(f"v/{quadrants}")
    assert len(variants) == 1
    assert variants[0].startswith(f"v/{quadrants}/")
    assert variants[0].endswith(".webp")
    # the same picture asked differently is the same variant
    await rendition(stack, quadrants, "fm=webp&w=30&dpr=2&unknown=1")
    assert await stack.runtime.storage.list_keys(f"v/{quadrants}") == variants


async def test_concurrent_requests_for_a_missing_variant_render_it_once(
    stack: Stack, quadrants: str
) -> None:
    before = stack.renders
    answers = await asyncio.gather(*(rendition(stack, quadrants, "w=77") for _ in range(8)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    assert stack.renders == before + 1


@pytest.mark.parametrize(
    ("query", "size"),
    [
        ("w=50&h=50", (50, 25)),  # clip: fits inside
        ("w=400", (400, 200)),  # clip grows a picture, as imgix does
        ("w=400&fit=max", (200, 100)),  # max never grows it
        ("w=50&h=50&fit=crop", (50, 50)),
        ("w=50&h=50&fit=scale", (50, 50)),
        ("w=50&h=50&fit=fill", (50, 50)),
        ("w=400&h=100&fit=min", (200, 50)),  # the box's shape, never larger than the source
        ("w=0.5", (100, 50)),  # a fraction of the source
        ("h=20", (40, 20)),
        ("w=50&dpr=2", (100, 50)),
        ("w=100000&fit=clip", (4096, 2048)),  # the output cap
        ("rect=0,0,100,50", (100, 50)),
        ("rect=150,50,500,500&w=25", (25, 25)),  # a rect past the edge is cut to the picture
    ],
)
async def test_sizes(stack: Stack, quadrants: str, query: str, size: tuple[int, int]) -> None:
    assert (await picture(stack, quadrants, query)).size == size


# The 200 x 100 source shown at 40 x 20 covers a 20 x 20 box (or a 40 x 10 one): a crop keeps
# one column (or row) of two quadrants, chosen by the crop mode.
LEFT, RIGHT = [(5, 5, RED), (5, 15, BLUE)], [(5, 5, GREEN), (5, 15, YELLOW)]
TOP, BOTTOM = [(5, 5, RED), (35, 5, GREEN)], [(5, 5, BLUE), (35, 5, YELLOW)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("w=20&h=20&crop=left", LEFT),
        ("w=20&h=20&crop=top,right", RIGHT),
        ("w=20&h=20&crop=focalpoint&fp-x=0.9", RIGHT),
        ("w=20&h=20&crop=focalpoint&fp-x=0.1&fp-y=0.9", LEFT),
        ("w=20&h=20&crop=faces,right", RIGHT),  # no face detector: the other modes decide
        ("w=40&h=10&crop=top", TOP),
        ("w=40&h=10&crop=bottom,left", BOTTOM),
        ("w=40&h=10&crop=focalpoint&fp-y=0.95", BOTTOM),
    ],
)
async def test_crops_keep_the_asked_part(
    stack: Stack, quadrants: str, query: str, expected: list[tuple[int, int, Any]]
) -> None:
    made = await picture(stack, quadrants, f"{query}&fit=crop")
    for x, y, colour in expected:
        assert near(colour_at(made, x, y), colour), (x, y, colour_at(made, x, y))


@pytest.mark.parametrize(("fmt", "mime"), [("JPEG", "image/jpeg"), ("PNG", "image/png")])
async def test_an_entropy_crop_keeps_the_busiest_part(
    stack: Stack, api: httpx.AsyncClient, fmt: str, mime: str
) -> None:
    # libvips' smartcrop reads the picture more than once: a source decoded in one pass is held
    # first (it was a 400, "out of order read", for every JPEG and PNG).
    key = await stored(stack, api, pictures.encode(pictures.half_busy(), fmt), mime)

    busiest = await picture(stack, key, "w=100&h=100&fit=crop&crop=entropy")
    centred = await picture(stack, key, "w=100&h=100&fit=crop")

    assert busiest.size == centred.size == (100, 100)
    assert pictures.spread(centred, 2) < 20  # the centre crop starts in the flat half
    assert pictures.spread(busiest, 2) > 60  # the busiest part is all noise
    assert pictures.spread(busiest, 97) > 60


async def test_an_animation_keeps_the_box_busiest_in_its_first_frame(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    # One search, one framing: the third frame is busy on the left, and still cut on the right.
    busy = pictures.half_busy()
    frames = [busy, busy.transpose(Image.Transpose.FLIP_TOP_BOTTOM), busy.rotate(180)]
    gif = pictures.encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    key = await stored(stack, api, gif, "image/gif")

    made = await picture(stack, key, "w=100&h=100&fit=crop&crop=entropy&fm=gif")

    assert (made.size, getattr(made, "n_frames", 1)) == ((100, 100), 3)
    spreads = []
    for frame in range(3):
        made.seek(frame)
        spreads.append(pictures.spread(made, 50))
    assert spreads[0] > 60
    assert spreads[1] > 60
    assert spreads[2] < 20


async def test_a_centre_crop_keeps_the_middle(stack: Stack, quadrants: str) -> None:
    made = await picture(stack, quadrants, "w=100&h=100&fit=crop")  # 200x100 -> 100x100
    assert near(colour_at(made, 5, 5), RED)
    assert near(colour_at(made, 94, 5), GREEN)
    assert near(colour_at(made, 5, 94), BLUE)
    assert near(colour_at(made, 94, 94), YELLOW)


async def test_rect_takes_a_region_first(stack: Stack, quadrants: str) -> None:
    made = await picture(stack, quadrants, "rect=100,50,100,50&w=20")
    assert made.size == (20, 10)
    assert near(colour_at(made, 10, 5), YELLOW)


async def test_fill_pads_with_the_background_colour(stack: Stack, quadrants: str) -> None:
    made = await picture(stack, quadrants, "w=100&h=100&fit=fill&bg=00f")
    assert made.size == (100, 100)
    assert near(colour_at(made, 50, 5), BLUE)  # the band above the picture
    assert near(colour_at(made, 5, 30), RED)


async def test_the_exif_orientation_is_applied(stack: Stack, api: httpx.AsyncClient) -> None:
    key = await stored(stack, api, pictures.rotated_quadrants(), width=200, height=100)
    made = await picture(stack, key, "w=100")
    assert made.size == (100, 50)
    assert near(colour_at(made, 10, 10), RED)
    assert near(colour_at(made, 90, 40), YELLOW)
    assert made.getexif().get(pictures.ORIENTATION, 1) == 1


@pytest.mark.parametrize(
    ("fm", "mime", "pil_format"),
    [
        ("jpg", "image/jpeg", "JPEG"),
        ("pjpg", "image/jpeg", "JPEG"),
        ("png", "image/png", "PNG"),
        ("webp", "image/webp", "WEBP"),
        ("avif", "image/avif", "AVIF"),
        ("gif", "image/gif", "GIF"),
    ],
)
async def test_each_output_format(
    stack: Stack, quadrants: str, fm: str, mime: str, pil_format: str
) -> None:
    response = await rendition(stack, quadrants, f"w=40&fm={fm}")
    assert response.headers["content-type"] == mime
    made = decode(response.content)
    assert (made.format, made.size) == (pil_format, (40, 20))
    assert near(colour_at(made, 5, 5), RED, slack=60)


@pytest.mark.parametrize(
    ("accept", "mime"),
    [
        ("image/avif,image/webp,image/apng,image/*,*/*;q=0.8", "image/avif"),  # Chrome
        ("image/webp,*/*", "image/webp"),
        ("image/avif;q=0,image/webp", "image/webp"),
        ("image/*", "image/jpeg"),  # the source's own format
        (None, "image/jpeg"),
    ],
)
async def test_auto_format_follows_the_accept_header(
    stack: Stack, quadrants: str, accept: str | None, mime: str
) -> None:
    response = await rendition(stack, quadrants, "w=40&auto=format", accept)
    assert response.headers["content-type"] == mime
    assert response.headers["vary"] == "Accept"
    assert decode(response.content).size == (40, 20)


async def test_quality_changes_the_size(stack: Stack, api: httpx.AsyncClient) -> None:
    noisy = Image.effect_noise((200, 200), 80).convert("RGB")
    key = await stored(stack, api, pictures.encode(noisy), width=200, height=200)
    low = await rendition(stack, key, "w=200&q=10")
    high = await rendition(stack, key, "w=200&q=95")
    assert len(low.content) < len(high.content) / 2


@pytest.mark.parametrize("fm", ["gif", "webp"])
async def test_an_animation_stays_animated(stack: Stack, api: httpx.AsyncClient, fm: str) -> None:
    key = await stored(stack, api, pictures.animation("GIF"), "image/gif", width=80, height=60)
    made = await picture(stack, key, f"w=40&fm={fm}")
    assert made.size == (40, 30)
    assert getattr(made, "n_frames", 1) == 3
    colours = []
    for frame in range(3):
        made.seek(frame)
        colours.append(colour_at(made, 20, 15))
    assert all(near(c, e, slack=60) for c, e in zip(colours, pictures.FRAMES, strict=True))


async def test_an_animation_cropped_crops_every_frame(stack: Stack, api: httpx.AsyncClient) -> None:
    key = await stored(stack, api, pictures.animation("WEBP"), "image/webp", width=80, height=60)
    made = await picture(stack, key, "w=30&h=30&fit=crop&fm=webp")
    assert (made.size, made.n_frames) == ((30, 30), 3)  # type: ignore[attr-defined]


async def test_a_still_format_gets_the_first_frame(stack: Stack, api: httpx.AsyncClient) -> None:
    key = await stored(stack, api, pictures.animation("GIF"), "image/gif", width=80, height=60)
    made = await picture(stack, key, "w=40&fm=jpg")
    assert made.size == (40, 30)
    assert near(colour_at(made, 20, 15), RED)


async def test_icc_and_credits_are_kept_and_the_rest_dropped(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    key = await stored(stack, api, pictures.credited_photo(), width=200, height=100)
    for fm in ("jpg", "webp", "png", "avif"):
        made = await picture(stack, key, f"w=100&fm={fm}")
        assert made.info.get("icc_profile") == pictures.SRGB_PROFILE, fm
        exif = made.getexif()
        assert exif.get(pictures.ARTIST) == "Jane Photographer", fm
        assert exif.get(pictures.COPYRIGHT) == "(c) Daily Planet", fm
        assert pictures.MAKE not in exif, fm
        assert not exif.get_ifd(pictures.GPS_IFD), fm
        assert pictures.SERIAL not in exif.get_ifd(0x8769), fm
        xmp = made.info.get("xmp") or made.info.get("XML:com.adobe.xmp") or b""
        assert "Jane Photographer" in (xmp.decode() if isinstance(xmp, bytes) else xmp), fm
    jpeg = await picture(stack, key, "w=100&fm=jpg")
    iptc = IptcImagePlugin.getiptcinfo(jpeg)  # type: ignore[arg-type]
    assert iptc is not None
    assert iptc[(2, 80)] == b"Jane Photographer"
    assert iptc[(2, 116)] == b"(c) Daily Planet"


async def test_transparency_is_kept_or_flattened(stack: Stack, api: httpx.AsyncClient) -> None:
    key = await stored(stack, api, pictures.transparent_png(), "image/png", width=100, height=100)
    kept = await picture(stack, key, "w=50")
    assert kept.format == "PNG"
    assert kept.mode == "RGBA"
    assert kept.getpixel((2, 2))[3] == 0  # type: ignore[index]
    flat = await picture(stack, key, "w=50&fm=jpg")
    assert near(colour_at(flat, 2, 2), (255, 255, 255))
    on_blue = await picture(stack, key, "w=50&bg=0000ff")
    assert near(colour_at(on_blue, 2, 2), BLUE)


async def test_an_svg_is_served_as_it_is(stack: Stack, api: httpx.AsyncClient) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>'
    key = await stored(stack, api, svg, "image/svg+xml", width=10, height=10)
    served = await rendition(stack, key, "w=100&fm=png&auto=format")
    assert served.status_code == 200
    assert served.content == svg
    assert served.headers["content-type"] == "image/svg+xml"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("w=abc", "w"),
        ("w=-3", "w"),
        ("h=0", "h"),
        ("dpr=9", "dpr"),
        ("q=0", "q"),
        ("q=101", "q"),
        ("fit=facearea", "fit"),
        ("crop=middle", "crop"),
        ("fm=bmp", "fm"),
        ("fp-x=2", "fp-x"),
        ("rect=1,2,3", "rect"),
        ("rect=0,0,0,10", "rect"),
        ("rect=500,0,10,10", "rect"),  # starts outside the 200 x 100 picture
        ("bg=zzz", "bg"),
        ("w=nan", "w"),
    ],
)
async def test_bad_values_are_400s_that_name_the_parameter(
    stack: Stack, quadrants: str, query: str, field: str
) -> None:
    response = await rendition(stack, quadrants, query)
    assert response.status_code == 400
    body = response.json()
    assert (body["status"], body["error"]) == (400, "Bad Request")
    assert field in body["error_details"]


async def test_pictures_that_cannot_be_rendered_are_400s(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    bomb = await stored(stack, api, png_bomb(), "image/png", width=40_000, height=40_000)
    response = await rendition(stack, bomb, "w=100")
    assert response.status_code == 400
    assert "pixels" in response.json()["error_details"]["image"]
    garbage = await stored(stack, api, b"\xff\xd8\xff\xe0 not really a jpeg" * 10)
    response = await rendition(stack, garbage, "w=100")
    assert response.status_code == 400
    assert "cannot be rendered" in response.json()["error_details"]["image"]
    assert await stack.runtime.storage.list_keys(f"v/{garbage}") == []


async def test_files_have_no_renditions(stack: Stack, api: httpx.AsyncClient) -> None:
    key = new_key("pdf")
    await stack.put_asset(key, b"%PDF-1.4 a document")
    entry = image_entry(
        key,
        mediaType="file",
        asset={"key": key, "size": 19, "filename": "a.pdf", "mimeType": "application/pdf"},
    )
    [result] = await import_entries(api, [entry])
    assert result["ok"], result
    response = await rendition(stack, key, "w=100")
    assert response.status_code == 400
    assert (await stack.client().get(f"/media/{key}")).status_code == 200


async def test_a_revoked_entrys_original_and_renditions_are_403s(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    data = pictures.encode(pictures.quadrants())
    key = new_key()
    await stack.put_asset(key, data)
    [result] = await import_entries(
        api, [image_entry(key, asset=image_asset(key, size=len(data), width=200, height=100))]
    )
    assert (await rendition(stack, key, "w=50")).status_code == 200
    revoked = await api.patch(
        f"/api/2026-05/mediaLibrary/{result['id']}",
        json={"patches": [{"operation": "revokeAsset"}]},
    )
    assert revoked.status_code == 200, revoked.text
    for query in ("w=50", "w=51", ""):
        response = await stack.client().get(f"/media/{key}?{query}")
        assert response.status_code == 403, query
        assert response.json()["error"] == "Forbidden"


async def test_a_grey_picture_takes_a_coloured_background(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    grey = pictures.encode(Image.new("LA", (100, 50), (128, 0)), "PNG")
    key = await stored(stack, api, grey, "image/png", width=100, height=50)
    padded = await picture(stack, key, "w=80&h=80&fit=fill&bg=00f&fm=jpg")
    assert near(colour_at(padded, 40, 2), BLUE)
    under = await picture(stack, key, "w=50&bg=f00")
    assert near(colour_at(under, 10, 10), RED)


async def test_a_tiny_animation_asked_for_large_is_a_400_before_it_is_made(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    # 1.3 KB of 24 frames at 10x10, asked for at 2100x2100 in GIF: 106 million pixels to make.
    key = await stored(stack, api, pictures.many_frames(), "image/gif", width=10, height=10)
    before = stack.renders

    refused = await rendition(stack, key, "w=2100&h=2100&fm=gif")

    assert refused.status_code == 400
    body = refused.json()
    assert (body["status"], body["error"]) == (400, "Bad Request")
    problem = body["error_details"]["image"]
    assert "2100x2100 x 24 frames = 105,840,000 pixels, more than 96,000,000" in problem
    assert "still format" in problem
    assert stack.renders == before
    assert await stack.runtime.storage.list_keys(f"v/{key}") == []
    # Its first frame alone is within the limit, as the 400 says.
    still = await picture(stack, key, "w=2100&h=2100&fm=png")
    assert (still.size, getattr(still, "n_frames", 1)) == ((2100, 2100), 1)


async def test_what_a_rendition_makes_is_held_to_the_sources_limits(make_stack) -> None:
    # A source may have 10,000 pixels, an animation's frames 40,000 together.
    small = await make_stack(image_max_pixels=10_000)
    api = await small.api()
    key = await stored(small, api, pictures.many_frames(), "image/gif", width=10, height=10)

    within = await picture(small, key, "w=40&h=40&fm=gif")  # 24 x 1,600 = 38,400
    over = await rendition(small, key, "w=41&h=41&fm=gif")  # 24 x 1,681 = 40,344
    still = await picture(small, key, "w=100&h=100&fm=png")  # one frame of 10,000
    too_large_still = await rendition(small, key, "w=101&h=101&fm=png")

    assert (within.size, getattr(within, "n_frames", 1)) == ((40, 40), 24)
    assert over.status_code == 400
    assert "41x41 x 24 frames = 40,344 pixels, more than 40,000" in over.text
    assert still.size == (100, 100)
    assert too_large_still.status_code == 400
    assert "101x101 = 10,201 pixels, more than 10,000" in too_large_still.text
    assert len(await small.runtime.storage.list_keys(f"v/{key}")) == 2  # the two made


async def test_a_render_past_its_deadline_is_stopped_and_is_a_400(make_stack) -> None:
    # A deadline passed before the first tile is made: every render here is stopped (and the
    # kill set before the save's pass over the pixels, which clears it, is set again in it).
    hurried = await make_stack(render_timeout=1e-9)
    api = await hurried.api()
    key = await stored(hurried, api, pictures.encode(pictures.quadrants()), width=200, height=100)

    for fm in ("jpg", "png", "webp", "avif", "gif"):
        response = await rendition(hurried, key, f"w=3000&fm={fm}")

        assert response.status_code == 400, fm
        body = response.json()
        assert (body["status"], body["error"]) == (400, "Bad Request")
        assert "took more than 1e-09 s to render and was stopped" in body["error_details"]["image"]
    assert hurried.renders == 0
    assert await hurried.runtime.storage.list_keys(f"v/{key}") == []  # nothing half-made
