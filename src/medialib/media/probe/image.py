"""An image's size from its header (no pixels decoded), whether it is whole, and its embedded
metadata. CPU work on a file: callers run it in a thread."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from medialib.errors import ItemError
from medialib.media.probe.embedded import embedded_metadata
from medialib.media.probe.sniff import Sniffed
from medialib.media.probe.svg import svg_size

# Pillow's own bomb check is turned off: the caller's pixel limit is checked on the header.
Image.MAX_IMAGE_PIXELS = None


@dataclass
class ImageInfo:
    width: int
    height: int
    mime: str
    embedded: dict[str, Any] = field(default_factory=dict)


def probe_image(path: Path, sniffed: Sniffed, tail: bytes, max_pixels: int) -> ImageInfo:
    """The image's size and embedded metadata, or ItemError (unreadable, too many pixels, cut
    short, an unsafe SVG). `tail` is the body's last bytes, where an image's end marker sits."""
    if sniffed.mime == "image/svg+xml":
        return ImageInfo(*svg_size(path), sniffed.mime)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as image:
                fmt = Image.MIME.get(image.format or "", "")
                if fmt != sniffed.mime:
                    raise ItemError(
                        "invalid_image", f"the bytes are not a readable {sniffed.extension}"
                    )
                width, height = image.size
                if width < 1 or height < 1:
                    raise ItemError("invalid_image", "the image has no pixels")
                if width * height > max_pixels:
                    raise ItemError(
                        "too_many_pixels",
                        f"{width}x{height} is more than {max_pixels:,} pixels",
                    )
                _check_whole(sniffed, path, tail)
                return ImageInfo(width, height, sniffed.mime, embedded_metadata(image))
    except ItemError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ItemError("invalid_image", f"not a readable {sniffed.extension}: {exc}") from exc


def _check_whole(sniffed: Sniffed, path: Path, tail: bytes) -> None:
    """A truncated image has a header but not its end marker (checked without decoding)."""
    if sniffed.mime == "image/jpeg":
        whole = b"\xff\xd9" in tail[-64:]
    elif sniffed.mime == "image/png":
        whole = b"IEND" in tail[-64:]
    elif sniffed.mime == "image/gif":
        whole = tail.rstrip(b"\x00").endswith(b";")
    else:
        whole = _riff_complete(path)
    if not whole:
        raise ItemError(
            "truncated_image",
            f"the {sniffed.extension} does not end as one must (cut short, or more appended)",
        )


def _riff_complete(path: Path) -> bool:
    with path.open("rb") as file:
        header = file.read(12)
    declared = int.from_bytes(header[4:8], "little") + 8
    return path.stat().st_size >= declared
