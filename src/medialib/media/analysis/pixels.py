"""A small decoded RGB copy of a picture, turned as it is displayed: what the analysis reads.
The worker makes it (with Pillow alone: it never loads numpy) and sends it to an analysis
process (processes.py).

Cheap by construction: a JPEG is decoded at 1/2, 1/4 or 1/8 of its size by libjpeg's DCT
scaling (`Image.draft`), so most of its pixels are never made; the rest is a box reduce and a
bilinear pass. Only the first frame of an animation is read. Transparent pixels are painted on
white, the background most pages show a placeholder on. CPU work on a file: callers run it in a
thread, after the probe has checked the pixel count against the project's limit.

The copy is ANALYSIS_SIDE (64) pixels on the long side, or the face detector's own side
(FACES_SIDE, 160) when it will look at it (copies.py): a JPEG is decoded no larger than that.
Not less than 64: a JPEG decoded at 1/8 is 8x8 block means, which alias fine textures, and a
copy of 32 to 48 pixels made that way put a 75 % resize of a brick wall 16 to 22 bits from its
original (bench/near_duplicates.py); from 64, pixels a filter has smoothed reach the hash.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from medialib.errors import ItemError
from medialib.media.analysis.copies import as_rgb, shrink

# The probe refuses more pixels than the project's limit before anything is analysed; this
# bound only keeps a caller that skipped it from decoding a bomb (Pillow's own check is off).
MAX_PIXELS = 100_000_000
ANALYSED_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})

# EXIF orientation -> the transpose that shows the picture upright (ImageOps.exif_transpose's).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_ORIENTATION = 0x0112


def small_copy(path: Path, mime: str, side: int, *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """The picture as displayed (EXIF orientation applied), in RGB, its long side at most
    `side`; ItemError when its pixels cannot be read or are more than `max_pixels`."""
    if mime not in ANALYSED_TYPES:
        raise ItemError("not_analysable", f"{mime} pictures are not analysed")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as image:
                _check_size(image.size, max_pixels)
                orientation = image.getexif().get(_ORIENTATION)
                if image.format == "JPEG":
                    image.draft("RGB", _draft_size(image.size, side))
                picture = as_rgb(_shrunk(image, side))
    except ItemError:
        raise
    except (Image.DecompressionBombError, MemoryError) as exc:
        raise ItemError("too_many_pixels", f"too many pixels to analyse: {exc}") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ItemError("invalid_image", f"the pixels cannot be read: {exc}") from exc
    if isinstance(orientation, int) and orientation in _UPRIGHT:
        picture = picture.transpose(_UPRIGHT[orientation])
    return picture


def _check_size(size: tuple[int, int], max_pixels: int) -> None:
    w, h = size
    if w < 1 or h < 1:
        raise ItemError("invalid_image", "the image has no pixels")
    if w * h > max_pixels:
        raise ItemError("too_many_pixels", f"{w}x{h} is more than {max_pixels:,} pixels")


def _draft_size(size: tuple[int, int], at_least: int) -> tuple[int, int]:
    """What to ask `Image.draft` for so libjpeg scales by the largest of 1/8, 1/4, 1/2 that
    keeps the long side at least `at_least` (draft itself goes by the short side: a panorama
    would decode larger than it needs)."""
    w, h = size
    scale = next((s for s in (8, 4, 2) if max(w, h) / s >= at_least), 1)
    return (max(1, w // scale), max(1, h // scale))


def _shrunk(image: Image.Image, side: int) -> Image.Image:
    image.load()
    if image.mode in ("P", "PA"):  # a palette is resized as colours, not as indexes
        image = image.convert("RGBA")
    elif image.mode not in ("RGB", "RGBA", "L", "LA", "CMYK"):
        image = _eight_bit_grey(image)
    return shrink(image, side)


def _eight_bit_grey(image: Image.Image) -> Image.Image:
    """16-bit, 32-bit and float grey (a 16-bit PNG), and 1-bit, as 8-bit grey: Pillow's own
    conversion to "L" clips, so 16-bit levels are scaled down first (rounded to the nearest)."""
    levels = image if image.mode == "F" else image.convert("F")
    _, top = levels.getextrema()  # one band: (lowest, highest)
    assert isinstance(top, float | int)
    top = max(float(top), 0.0)
    scale = 255.0 / 65535.0 if top > 255 else 1.0
    return levels.point(lambda value: value * scale + 0.5).convert("L")  # F to L truncates
