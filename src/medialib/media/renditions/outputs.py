"""What a rendition is made as: its output formats, the limits it is made within, and what
comes back. Shared by its callers, engine.py (which they call) and vips.py (which does the work)."""

from __future__ import annotations

import threading
from collections.abc import Callable
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
    max_frames: int  # of an animation: a source with more gets its first frame made
    max_seconds: float  # one render's deadline: its caller stops it then (Stop)


class Stop:
    """Stops a render from another thread: its caller calls it at the deadline, the render says
    how to stop each thing it has to stop once it has it (stopped at once if the deadline came
    first). Called from the caller's thread, so that no Python runs inside libvips' work."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hows: list[Callable[[], None]] = []
        self.stopped = False

    def __call__(self) -> None:
        with self._lock:
            self.stopped = True
            hows = list(self._hows)
        for how in hows:
            how()

    def by(self, how: Callable[[], None]) -> None:
        with self._lock:
            self._hows.append(how)
            stopped = self.stopped
        if stopped:
            how()


@dataclass(frozen=True)
class Rendered:
    data: bytes
    mime: str
    width: int
    height: int
    frames: int


def variant_extension(output: str) -> str:
    return EXTENSIONS.get(output, output)
