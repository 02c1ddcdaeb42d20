"""Pictures whose content a test can check after a rendition: four coloured quadrants, an
animation of three coloured frames, a photo carrying an ICC profile and its credits beside a GPS
position and a camera serial."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image, ImageCms

RED, GREEN, BLUE, YELLOW = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)
GREY = (128, 128, 128)
FRAMES = (RED, GREEN, BLUE)
ARTIST, COPYRIGHT, MAKE, GPS_IFD, SERIAL = 0x013B, 0x8298, 0x010F, 0x8825, 0xA431
ORIENTATION = 0x0112


def quadrants(width: int = 200, height: int = 100) -> Image.Image:
    """Red top left, green top right, blue bottom left, yellow bottom right."""
    picture = Image.new("RGB", (width, height))
    half_w, half_h = width // 2, height // 2
    for box, colour in (
        ((0, 0, half_w, half_h), RED),
        ((half_w, 0, width, half_h), GREEN),
        ((0, half_h, half_w, height), BLUE),
        ((half_w, half_h, width, height), YELLOW),
    ):
        picture.paste(colour, box)
    return picture


def encode(picture: Image.Image, fmt: str = "JPEG", **options: Any) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        options.setdefault("quality", 95)
    picture.save(out, fmt, **options)
    return out.getvalue()


def rotated_quadrants() -> bytes:
    """A JPEG whose pixels are stored turned a quarter; EXIF orientation 6 says to turn them
    back, so it shows as `quadrants()` (200 x 100)."""
    stored = quadrants().transpose(Image.Transpose.ROTATE_90)  # 100 x 200, as cameras store it
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    return encode(stored, exif=exif.tobytes())


def animation(fmt: str = "GIF", size: tuple[int, int] = (80, 60)) -> bytes:
    frames = [Image.new("RGB", size, colour) for colour in FRAMES]
    return encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)


def frame_colour(i: int) -> tuple[int, int, int]:
    """The colour of frame `i` of `many_frames`."""
    return (i * 37) % 256, (i * 91) % 256, (i * 53) % 256


def many_frames(count: int = 24, size: tuple[int, int] = (10, 10)) -> bytes:
    """A GIF of `count` small frames, each its own colour (equal frames would be merged): about
    1.5 KB for 24, however large its renditions."""
    frames = [Image.new("RGB", size, frame_colour(i)) for i in range(count)]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)


def half_busy(size: tuple[int, int] = (300, 100)) -> Image.Image:
    """Flat grey on the left half, noise on the right: the busiest part is on the right."""
    width, height = size
    picture = Image.new("RGB", size, GREY)
    noise = Image.merge("RGB", [Image.effect_noise((width // 2, height), 90)] * 3)
    picture.paste(noise, (width // 2, 0))
    return picture


def spread(picture: Image.Image, x: int) -> int:
    """How far apart the lightest and darkest pixels of column `x` are: 0 for a flat column."""
    column = [sum(colour_at(picture, x, y)) // 3 for y in range(picture.height)]
    return max(column) - min(column)


SRGB_PROFILE = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def credited_photo() -> bytes:
    """A JPEG with an ICC profile, Artist and Copyright, a camera serial and a GPS position."""
    exif = Image.Exif()
    exif[ARTIST] = "Jane Photographer"
    exif[COPYRIGHT] = "(c) Daily Planet"
    exif[MAKE] = "Canon"
    exif[GPS_IFD] = {1: "N", 2: (47.0, 22.0, 1.0), 3: "E", 4: (8.0, 32.0, 1.0)}
    exif.get_ifd(0x8769)[SERIAL] = "SN-0042"
    return encode(quadrants(), exif=exif.tobytes(), icc_profile=SRGB_PROFILE)


def transparent_png(size: tuple[int, int] = (100, 100)) -> bytes:
    picture = Image.new("RGBA", size, (0, 0, 0, 0))
    picture.paste((255, 0, 0, 255), (25, 25, 75, 75))
    return encode(picture, "PNG")


def decode(data: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(data))
    picture.load()
    return picture


def colour_at(picture: Image.Image, x: int, y: int) -> tuple[int, int, int]:
    r, g, b = picture.convert("RGB").getpixel((x, y))[:3]  # type: ignore[index]
    return r, g, b


def near(colour: tuple[int, int, int], expected: tuple[int, int, int], slack: int = 40) -> bool:
    return all(abs(a - b) <= slack for a, b in zip(colour, expected, strict=True))
