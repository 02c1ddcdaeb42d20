"""What the pages paint of a picture before its thumbnail arrives, and its focal point.

The analysis stores in an image's asset (or a video's poster) its dominant colour (`color`,
`#rrggbb`), a ThumbHash (`placeholder`, standard base64) and a focal point. The pages paint the
colour at once (an SVG's fill: the pages' policy refuses inline styles, not SVG attributes) and
static/placeholders.js decodes the ThumbHash into a canvas behind the thumbnail. Decoding in
the browser rather than here: measured on the library page with 50 entries (served in about
50 ms), a ThumbHash decoded to a PNG data URL in Python took 5 to 8 ms, 250 to 430 ms a page,
and added 3 KB a card (150 KB a page, and `data:` to the policy's img-src); thumbhash.js takes
0.1 to 0.2 ms for one, on the reader's machine. Entries analysed before these fields existed,
or whose values are not what the analysis writes, paint nothing and show as before.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from medialib.library.focal_points import picture_of

_COLOR = re.compile(r"#[0-9a-fA-F]{6}", re.ASCII)
# A ThumbHash is 5 to 25 or so bytes: standard base64 with its padding, kept short.
_THUMBHASH = re.compile(r"[A-Za-z0-9+/]{8,64}={0,2}", re.ASCII)


@dataclass(frozen=True)
class Paint:
    """What is painted in a thumbnail's box while the thumbnail loads."""

    color: str | None
    placeholder: str | None


@dataclass(frozen=True)
class Marker:
    """A focal point, where the page draws it: in the coordinates of the picture's size."""

    x: float
    y: float
    source: str


def paint(asset: Mapping[str, Any]) -> Paint | None:
    """The paint of the asset's picture; None when it has neither field (not analysed)."""
    picture = picture_of(asset)
    if picture is None:
        return None
    color = picture.get("color")
    placeholder = picture.get("placeholder")
    shown = Paint(
        color if isinstance(color, str) and _COLOR.fullmatch(color) else None,
        placeholder if isinstance(placeholder, str) and _THUMBHASH.fullmatch(placeholder) else None,
    )
    return shown if shown.color or shown.placeholder else None


def marker(picture: Mapping[str, Any]) -> Marker | None:
    """The picture's focal point in its own pixels; None when it has none (or a broken one)."""
    point = picture.get("focalPoint")
    width, height = size_of(picture)
    if not isinstance(point, Mapping):
        return None
    x, y = _fraction(point.get("x")), _fraction(point.get("y"))
    if x is None or y is None:
        return None
    return Marker(x * width, y * height, str(point.get("source", "")))


def _fraction(value: Any) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1
    return float(value) if ok else None


def size_of(picture: Mapping[str, Any]) -> tuple[int, int]:
    """The picture's displayed size in pixels, or a square when the asset does not say."""
    width, height = picture.get("width"), picture.get("height")
    if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
        return width, height
    return 1000, 1000
