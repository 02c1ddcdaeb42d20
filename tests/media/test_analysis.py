"""The image analysis as pure functions on real photos (scikit-image's): near-duplicates hash
close and unrelated photos far, placeholders decode to the picture's shape and colour, the
dominant colour and the focal point land where a viewer would put them, and pixels that cannot
be read are refused with a reason."""

from __future__ import annotations

import base64
import io
import itertools
import math
import re
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from PIL import Image

from medialib.errors import ItemError
from medialib.media.analysis import thumbhash
from medialib.media.analysis.analyze import analyze_image
from medialib.media.analysis.colour import dominant_colour
from medialib.media.analysis.copies import FACES_SIDE
from medialib.media.analysis.measures import analyze_picture, focal_point_from_faces
from medialib.media.analysis.phash import distance, phash
from medialib.media.analysis.pixels import small_copy
from medialib.media.analysis.records import Box, FocusSource
from medialib.media.analysis.saliency import salient_point

THRESHOLD = 10  # the project setting's default (bench/near_duplicates.py measures it)
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "camera")
MIMES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


def photo(name: str) -> Image.Image:
    return Image.fromarray(getattr(skimage.data, name)()).convert("RGB")


def stored(tmp_path: Path, picture: Image.Image, fmt: str = "JPEG", **options: object) -> Path:
    path = tmp_path / f"picture.{fmt.lower()}"
    out = io.BytesIO()
    picture.save(out, fmt, **options)
    path.write_bytes(out.getvalue())
    return path


def hashed(tmp_path: Path, picture: Image.Image, fmt: str = "JPEG", **options: object) -> int:
    path = stored(tmp_path, picture, fmt, **options)
    return analyze_image(path, MIMES[fmt], None).phash


def half(picture: Image.Image) -> Image.Image:
    return picture.resize((picture.width // 2, picture.height // 2), Image.Resampling.LANCZOS)


# --- Near-duplicates ---------------------------------------------------------------------------

COPIES: dict[str, tuple[Callable[[Image.Image], Image.Image], str, dict[str, object]]] = {
    "resized to 50%": (half, "JPEG", {"quality": 85}),
    "re-encoded at q 40": (lambda p: p, "JPEG", {"quality": 40}),
    "as PNG": (lambda p: p, "PNG", {}),
    "as WebP": (lambda p: p, "WEBP", {"quality": 80}),
}


@pytest.mark.parametrize("copy", list(COPIES))
@pytest.mark.parametrize("name", PHOTOS)
def test_a_changed_copy_is_within_the_threshold(tmp_path: Path, name: str, copy: str) -> None:
    change, fmt, options = COPIES[copy]
    original = hashed(tmp_path, photo(name), quality=92)

    copied = hashed(tmp_path, change(photo(name)), fmt, **options)

    assert distance(original, copied) <= THRESHOLD


def test_unrelated_photos_are_far_apart(tmp_path: Path) -> None:
    hashes = {name: hashed(tmp_path, photo(name), quality=92) for name in PHOTOS}

    distances = {
        (a, b): distance(hashes[a], hashes[b]) for a, b in itertools.combinations(PHOTOS, 2)
    }

    assert min(distances.values()) > THRESHOLD + 4, distances


# How a camera stores an upright picture under each EXIF orientation (the inverse of what a
# viewer does to show it: 6 is "turn 90 degrees clockwise to display").
STORED_AS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


@pytest.mark.parametrize("orientation", list(STORED_AS))
def test_an_exif_turned_copy_hashes_as_the_picture_it_displays(
    tmp_path: Path, orientation: int
) -> None:
    upright = photo("chelsea")  # landscape: turned, its stored pixels are portrait
    stored_pixels = upright.transpose(STORED_AS[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    turned = stored(tmp_path, stored_pixels, quality=92, exif=exif.tobytes())

    shown = small_copy(turned, "image/jpeg", 64)
    analysis = analyze_image(turned, "image/jpeg", None)

    assert shown.width > shown.height
    assert distance(analysis.phash, hashed(tmp_path, upright, quality=92)) <= 4
    assert distance(analysis.phash, phash(stored_pixels)) > THRESHOLD


def test_the_hash_is_64_unsigned_bits_and_the_distance_counts_them() -> None:
    value = phash(photo("coffee"))

    assert 0 <= value < 2**64
    assert distance(value, value) == 0
    assert distance(value, value ^ (2**64 - 1)) == 64
    assert distance(0b1011, 0b0001) == 2


# --- Placeholders ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "box"),
    [
        ("coffee", None),  # 600x400
        ("astronaut", None),  # square
        ("astronaut", (150, 0, 350, 512)),  # a portrait crop, 200x512
        ("rocket", (100, 0, 400, 427)),  # a portrait crop, 300x427
        ("chelsea", (0, 100, 451, 200)),  # a strip, 451x100
    ],
)
def test_the_placeholder_has_the_pictures_aspect_ratio_and_colour(
    tmp_path: Path, name: str, box: tuple[int, int, int, int] | None
) -> None:
    picture = photo(name).crop(box) if box else photo(name)

    placeholder = analyze_image(stored(tmp_path, picture, quality=92), "image/jpeg", None)
    ratio = thumbhash.aspect_ratio(placeholder.placeholder)
    average = thumbhash.average_rgba(placeholder.placeholder)
    w, h, pixels = thumbhash.to_rgba(placeholder.placeholder)

    # ThumbHash keeps the ratio as 7 : n terms (n the short side's share of 7, rounded).
    long, short = max(picture.size), min(picture.size)
    terms = max(1, round(7 * short / long))
    expected = 7 / terms if picture.width > picture.height else terms / 7
    assert ratio == pytest.approx(expected)
    assert (ratio > 1) == (picture.width > picture.height)
    mean = np.asarray(picture, dtype=np.float64).reshape(-1, 3).mean(axis=0) / 255
    assert np.abs(np.array(average[:3]) - mean).max() < 0.05
    assert average[3] == 1.0
    assert max(w, h) == 32
    assert len(pixels) == w * h * 4
    preview = np.frombuffer(pixels, np.uint8).reshape(h, w, 4)[..., :3].mean(axis=(0, 1)) / 255
    assert np.abs(preview - mean).max() < 0.06


def _reference_thumbhash(w: int, h: int, rgba: list[int]) -> bytes:
    """Evan Wallace's rgbaToThumbHash, transcribed loop for loop (github.com/evanw/thumbhash,
    MIT), with JavaScript's Math.round: what the vectorised port must equal bit for bit."""

    def js_round(v: float) -> int:
        return math.floor(v + 0.5)

    avg_r = avg_g = avg_b = avg_a = 0.0
    for i in range(w * h):
        alpha = rgba[4 * i + 3] / 255
        avg_r += alpha / 255 * rgba[4 * i]
        avg_g += alpha / 255 * rgba[4 * i + 1]
        avg_b += alpha / 255 * rgba[4 * i + 2]
        avg_a += alpha
    if avg_a:
        avg_r, avg_g, avg_b = avg_r / avg_a, avg_g / avg_a, avg_b / avg_a
    has_alpha = avg_a < w * h
    l_limit = 5 if has_alpha else 7
    lx = max(1, js_round(l_limit * w / max(w, h)))
    ly = max(1, js_round(l_limit * h / max(w, h)))
    lum, p, q, a = [], [], [], []
    for i in range(w * h):
        alpha = rgba[4 * i + 3] / 255
        r = avg_r * (1 - alpha) + alpha / 255 * rgba[4 * i]
        g = avg_g * (1 - alpha) + alpha / 255 * rgba[4 * i + 1]
        b = avg_b * (1 - alpha) + alpha / 255 * rgba[4 * i + 2]
        lum.append((r + g + b) / 3)
        p.append((r + g) / 2 - b)
        q.append(r - g)
        a.append(alpha)

    def encode_channel(channel: list[float], nx: int, ny: int) -> tuple[float, list[float], float]:
        dc, ac, scale = 0.0, [], 0.0
        for cy in range(ny):
            cx = 0
            while cx * ny < nx * (ny - cy):
                f = 0.0
                fx = [math.cos(math.pi / w * cx * (x + 0.5)) for x in range(w)]
                for y in range(h):
                    fy = math.cos(math.pi / h * cy * (y + 0.5))
                    for x in range(w):
                        f += channel[x + y * w] * fx[x] * fy
                f /= w * h
                if cx or cy:
                    ac.append(f)
                    scale = max(scale, abs(f))
                else:
                    dc = f
                cx += 1
        if scale:
            ac = [0.5 + 0.5 / scale * v for v in ac]
        return dc, ac, scale

    l_dc, l_ac, l_scale = encode_channel(lum, max(3, lx), max(3, ly))
    p_dc, p_ac, p_scale = encode_channel(p, 3, 3)
    q_dc, q_ac, q_scale = encode_channel(q, 3, 3)
    landscape = w > h
    header24 = (
        js_round(63 * l_dc)
        | (js_round(31.5 + 31.5 * p_dc) << 6)
        | (js_round(31.5 + 31.5 * q_dc) << 12)
        | (js_round(31 * l_scale) << 18)
        | (int(has_alpha) << 23)
    )
    header16 = (
        (ly if landscape else lx)
        | (js_round(63 * p_scale) << 3)
        | (js_round(63 * q_scale) << 9)
        | (int(landscape) << 15)
    )
    out = [header24 & 255, (header24 >> 8) & 255, header24 >> 16, header16 & 255, header16 >> 8]
    acs = [l_ac, p_ac, q_ac]
    if has_alpha:
        a_dc, a_ac, a_scale = encode_channel(a, 5, 5)
        out.append(js_round(15 * a_dc) | (js_round(15 * a_scale) << 4))
        acs.append(a_ac)
    start, index = len(out), 0
    for ac in acs:
        for f in ac:
            if start + (index >> 1) == len(out):
                out.append(0)
            out[start + (index >> 1)] |= js_round(15 * f) << ((index & 1) << 2)
            index += 1
    return bytes(out)


@pytest.mark.parametrize(
    ("size", "mode"), [((24, 16), "RGB"), ((13, 30), "RGB"), ((20, 20), "RGBA"), ((1, 9), "RGB")]
)
def test_the_thumbhash_is_the_references_bit_for_bit(size: tuple[int, int], mode: str) -> None:
    picture = photo("coffee").resize(size, Image.Resampling.BILINEAR).convert(mode)
    if mode == "RGBA":  # uneven alpha (a symmetric one has terms of exactly 0, rounded by noise)
        alpha = np.random.default_rng(5).integers(0, 256, (size[1], size[0]), dtype=np.uint8)
        picture.putalpha(Image.fromarray(alpha, "L"))
    rgba = list(picture.convert("RGBA").tobytes())

    ours = thumbhash.rgba_to_thumbhash(picture)

    assert ours == _reference_thumbhash(size[0], size[1], rgba)
    if mode == "RGBA":
        assert thumbhash.average_rgba(base64.b64encode(ours).decode())[3] < 1.0


@pytest.mark.parametrize("value", ["", "!!!", "AAAA", base64.b64encode(b"\x00" * 5).decode()])
def test_a_hash_that_is_not_a_thumbhash_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="ThumbHash"):
        thumbhash.to_rgba(value)
    with pytest.raises(ValueError, match="ThumbHash"):
        thumbhash.aspect_ratio(value)


def test_a_picture_larger_than_the_reference_takes_is_refused() -> None:
    with pytest.raises(ValueError, match="101x20"):
        thumbhash.encode(Image.new("RGB", (101, 20)))


# --- Dominant colour ---------------------------------------------------------------------------


def test_a_solid_picture_gives_its_colour(tmp_path: Path) -> None:
    path = stored(tmp_path, Image.new("RGB", (300, 200), (255, 0, 0)), "PNG")

    assert analyze_image(path, "image/png", None).color == "#ff0000"


def test_the_dominant_colour_is_the_largest_area_not_the_mean() -> None:
    picture = Image.new("RGB", (100, 100), (20, 60, 200))  # 70 % blue
    picture.paste((250, 250, 0), (0, 0, 30, 100))  # 30 % yellow: the mean would be grey-green

    assert dominant_colour(picture) == "#143cc8"


def test_a_photos_dominant_colour_is_one_it_has_much_of() -> None:
    cat = photo("chelsea").resize((32, 32), Image.Resampling.BILINEAR)
    colour = tuple(int(dominant_colour(cat)[i : i + 2], 16) for i in (1, 3, 5))

    pixels = np.asarray(cat, dtype=np.int64).reshape(-1, 3)
    near = np.abs(pixels - np.array(colour)).max(axis=1) <= 32
    assert near.mean() > 0.15  # a sixth of the cat's picture is within 32 levels of it


# --- Focal points ------------------------------------------------------------------------------


@pytest.mark.parametrize("corner", [(300, 40), (10, 10), (340, 250), (180, 130), (0, 250)])
def test_a_small_detailed_object_on_a_flat_background_is_the_focus(
    tmp_path: Path, corner: tuple[int, int]
) -> None:
    picture = Image.new("RGB", (400, 300), (90, 110, 120))
    rng = np.random.default_rng(3)
    detail = rng.integers(120, 256, (40, 50, 3), dtype=np.uint8)  # 50 wide, 40 high
    picture.paste(Image.fromarray(detail), corner)
    x, y = corner

    focus = analyze_image(stored(tmp_path, picture, quality=90), "image/jpeg", None).focal_point

    assert focus.source is FocusSource.SALIENCY
    assert x / 400 <= focus.x <= (x + 50) / 400
    assert y / 300 <= focus.y <= (y + 40) / 300


def test_a_flat_picture_is_focused_in_its_centre() -> None:
    focus = salient_point(Image.new("RGB", (32, 32), (128, 128, 128)))

    assert (focus.x, focus.y) == (0.5, 0.5)


def test_the_focus_of_faces_is_their_centre_weighted_by_size() -> None:
    big = Box(0.1, 0.2, 0.2, 0.4)  # centre (0.2, 0.4), area 0.08
    small = Box(0.7, 0.2, 0.1, 0.2)  # centre (0.75, 0.3), area 0.02

    focus = focal_point_from_faces((big, small))

    assert focus.source is FocusSource.FACES
    assert focus.x == pytest.approx((0.08 * 0.2 + 0.02 * 0.75) / 0.1)
    assert focus.y == pytest.approx((0.08 * 0.4 + 0.02 * 0.3) / 0.1)


def test_no_faces_give_no_focus_of_faces() -> None:
    with pytest.raises(ValueError, match="no faces"):
        focal_point_from_faces(())


@pytest.mark.parametrize("name", ["astronaut", "coffee", "camera"])
def test_the_hash_is_the_same_whether_a_detector_looked_or_not(tmp_path: Path, name: str) -> None:
    path = stored(tmp_path, photo(name), quality=90)

    alone = analyze_image(path, "image/jpeg", None)
    with_detector = analyze_image(path, "image/jpeg", lambda picture: ())

    assert distance(alone.phash, with_detector.phash) <= 2
    assert with_detector.focal_point.source is FocusSource.SALIENCY


def test_faces_a_detector_finds_set_the_focus(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    face = Box(0.35, 0.1, 0.2, 0.25)

    def detector(picture: Image.Image) -> tuple[Box, ...]:
        seen.append(picture.size)
        return (face,)

    analysis = analyze_image(
        stored(tmp_path, photo("astronaut"), quality=90), "image/jpeg", detector
    )

    assert seen == [(FACES_SIDE, FACES_SIDE)]
    assert analysis.faces == (face,)
    assert analysis.focal_point.source is FocusSource.FACES
    assert (analysis.focal_point.x, analysis.focal_point.y) == pytest.approx((0.45, 0.225))
    assert analysis.asset_fields()["focalPoint"] == {"x": 0.45, "y": 0.225, "source": "faces"}


def test_without_a_detector_the_astronauts_focus_is_near_her_face(tmp_path: Path) -> None:
    analysis = analyze_image(stored(tmp_path, photo("astronaut"), quality=90), "image/jpeg", None)

    assert analysis.faces == ()
    assert 0.35 < analysis.focal_point.x < 0.6  # her face spans x 0.36..0.55, y 0.1..0.35
    assert analysis.focal_point.y < 0.35


# --- Pixels: formats, frames, transparency, and what cannot be read ----------------------------


def test_transparency_is_painted_on_white(tmp_path: Path) -> None:
    picture = Image.new("RGBA", (80, 40), (0, 0, 0, 0))
    picture.paste((200, 0, 0, 255), (0, 0, 20, 40))  # a quarter opaque red
    path = stored(tmp_path, picture, "PNG")

    copy = small_copy(path, "image/png", 64)

    assert copy.mode == "RGB"
    assert copy.getpixel((63, 16)) == (255, 255, 255)
    assert analyze_image(path, "image/png", None).color == "#ffffff"


def test_a_transparent_poster_frame_is_analysed_on_white() -> None:
    frame = Image.new("RGBA", (64, 36), (0, 0, 0, 0))

    assert analyze_picture(frame).color == "#ffffff"


def test_an_animation_is_read_from_its_first_frame(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (60, 40), colour) for colour in ((0, 0, 255), (255, 0, 0))]
    path = tmp_path / "a.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)

    assert analyze_image(path, "image/gif", None).color == "#0000ff"


def test_sixteen_bit_grey_is_read_as_grey(tmp_path: Path) -> None:
    levels = np.full((40, 60), 40000, dtype=np.uint16)  # 61 % grey
    path = tmp_path / "a.png"
    Image.fromarray(levels).save(path)

    assert analyze_image(path, "image/png", None).color == "#9c9c9c"


def test_one_bit_pixels_are_read_black_and_white(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    Image.new("1", (40, 20), 1).save(path)

    assert analyze_image(path, "image/png", None).color == "#ffffff"


def test_cmyk_and_grey_jpegs_are_read(tmp_path: Path) -> None:
    cmyk = stored(tmp_path, Image.new("CMYK", (50, 50), (0, 255, 255, 0)), quality=95)
    assert analyze_image(cmyk, "image/jpeg", None).color[:3] in ("#fe", "#ff")  # red
    grey = stored(tmp_path, photo("camera").convert("L"), quality=90)
    assert analyze_image(grey, "image/jpeg", None).phash > 0


@pytest.mark.parametrize("size", [(1, 1), (1, 3000), (3000, 1), (2, 2)])
def test_extreme_shapes_are_analysed(tmp_path: Path, size: tuple[int, int]) -> None:
    path = stored(tmp_path, Image.new("RGB", size, (10, 200, 10)), "PNG")

    analysis = analyze_image(path, "image/png", None)

    assert analysis.color == "#0ac80a"
    assert 0 <= analysis.focal_point.x <= 1
    assert 0 <= analysis.focal_point.y <= 1
    thumbhash.to_rgba(analysis.placeholder)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_without_pixels() -> bytes:
    header = struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\0" * 10))
        + _chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("body", "mime"),
    [
        pytest.param(b"not a picture at all", "image/jpeg", id="not an image"),
        pytest.param(b"\xff\xd8\xff\xe0" + b"\x00" * 40, "image/jpeg", id="a JPEG header only"),
        pytest.param(_png_without_pixels(), "image/png", id="a PNG short of pixels"),
        pytest.param(b"GIF89a" + b"\x00" * 20, "image/gif", id="a GIF header only"),
        pytest.param(b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp", id="a WebP header only"),
    ],
)
def test_unreadable_pixels_are_refused(tmp_path: Path, body: bytes, mime: str) -> None:
    path = tmp_path / "body"
    path.write_bytes(body)

    with pytest.raises(ItemError) as refused:
        analyze_image(path, mime, None)

    assert refused.value.code == "invalid_image"


def test_a_jpeg_cut_short_is_refused(tmp_path: Path) -> None:
    body = stored(tmp_path, photo("coffee"), quality=90).read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(body[: len(body) // 3])

    with pytest.raises(ItemError) as refused:
        analyze_image(path, "image/jpeg", None)

    assert refused.value.code == "invalid_image"


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims a size its few rows of data do not fill (a bomb's shape)."""
    rows = zlib.compress(b"\0" * (width * 3 + 1) * 4)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", rows)
        + _chunk(b"IEND", b"")
    )


def test_more_pixels_than_the_limit_are_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_claiming(60_000, 60_000))  # 3.6 billion pixels: 10.8 GB decoded

    with pytest.raises(ItemError) as refused:
        analyze_image(path, "image/png", None)
    with pytest.raises(ItemError, match="is more than 9,999 pixels"):
        analyze_image(stored(tmp_path, photo("coffee"), "PNG"), "image/png", None, max_pixels=9_999)

    assert refused.value.code == "too_many_pixels"


@pytest.mark.parametrize("orientation", [0, 9, 99, 65535])
def test_an_orientation_out_of_range_is_ignored(tmp_path: Path, orientation: int) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = stored(tmp_path, photo("chelsea"), quality=90, exif=exif.tobytes())

    copy = small_copy(path, "image/jpeg", 64)

    assert copy.width == 64  # as stored: not turned
    assert copy.height in (42, 43)


def test_a_panoramas_copy_is_decoded_by_its_long_side(tmp_path: Path) -> None:
    panorama = photo("coffee").resize((4000, 300), Image.Resampling.BILINEAR)

    copy = small_copy(stored(tmp_path, panorama, quality=85), "image/jpeg", 64)

    assert copy.size == (64, 5)


@pytest.mark.parametrize("mime", ["image/svg+xml", "application/pdf", "video/mp4"])
def test_what_is_not_a_raster_picture_is_not_analysed(tmp_path: Path, mime: str) -> None:
    path = tmp_path / "body"
    path.write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'/>")

    with pytest.raises(ItemError) as refused:
        analyze_image(path, mime, None)

    assert refused.value.code == "not_analysable"


def test_the_record_shows_the_hash_as_sixteen_hex_digits(tmp_path: Path) -> None:
    analysis = analyze_image(stored(tmp_path, photo("rocket"), quality=90), "image/jpeg", None)

    fields = analysis.asset_fields()

    assert fields["perceptualHash"] == f"{analysis.phash:016x}"
    assert len(fields["perceptualHash"]) == 16
    assert re.fullmatch("#[0-9a-f]{6}", fields["color"])
    assert thumbhash.aspect_ratio(fields["placeholder"]) == pytest.approx(640 / 427, abs=0.1)
