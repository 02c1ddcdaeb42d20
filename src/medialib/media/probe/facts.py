"""What a stored object is, from its size and its first bytes: its type, and an image's
dimensions from its header (no pixels decoded). Registering an asset checks what the caller
says against these facts."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image

from medialib.media.probe.sniff import VIDEO_TYPES, sniff

# EXIF orientations that turn the picture a quarter: its stored width is its displayed height.
_QUARTER_TURNS = {5, 6, 7, 8}
_ORIENTATION = 0x0112


@dataclass(frozen=True)
class Facts:
    size: int
    mime: str
    width: int | None = None  # images whose header the first bytes hold
    height: int | None = None
    turned: bool = False  # EXIF says to turn it a quarter

    @property
    def is_video(self) -> bool:
        return self.mime in VIDEO_TYPES


def read_facts(size: int, head: bytes) -> Facts:
    sniffed = sniff(head)
    if not sniffed.is_image or sniffed.mime == "image/svg+xml":
        return Facts(size, sniffed.mime)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(head)) as image:
                width, height = image.size
                turned = image.getexif().get(_ORIENTATION) in _QUARTER_TURNS
    except Exception:
        return Facts(size, sniffed.mime)
    return Facts(size, sniffed.mime, width, height, turned)
