"""What a rendition is made as: its output formats, the limits it is made within, and what
comes back. Shared by its callers, engine.py (which they call) and vips.py (which does the work)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# The formats renditions are made in, and their types.
OUTPUT_TYPES = {
    "jpg": "image/jpeg",
    "pjpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "avif": "image/avif",
    "gif": "image/gif",
}
EXTENSIONS = {"pjpg": "jpg"}

Source = Path | bytes


@dataclass(frozen=True)
class EngineLimits:
    max_pixels: int  # of one frame of the source as imports check, and of the rendition
    max_side: int  # of the rendition, after dpr
    # All frames of an animation: a source beyond it gets its first frame made, a rendition
    # beyond it (its own size times its frames) is refused.
    max_frames_pixels: int
    max_seconds: float  # one render's deadline: libvips is stopped past it


@dataclass(frozen=True)
class Rendered:
    data: bytes
    mime: str
    width: int
    height: int
    frames: int


def variant_extension(output: str) -> str:
    return EXTENSIONS.get(output, output)
