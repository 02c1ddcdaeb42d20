"""What a stored object is, from its size and its first bytes: its type, and an image's
dimensions from its header (no pixels decoded); an SVG is read whole, since whether it is safe
to serve is in all of it. Registering an asset checks what the caller says against these facts,
and refuses what a URL import refuses."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

from PIL import Image

from medialib.errors import ItemError
from medialib.media.probe.jpeg_header import read_jpeg_header
from medialib.media.probe.sniff import HTML, VIDEO_TYPES, sniff
from medialib.media.probe.svg import SVG_MAX_BYTES, SvgCheck
from medialib.media.storage import Storage

SVG = "image/svg+xml"
JPEG = "image/jpeg"
# Types a browser shows as a page (scripts, forms, links), whatever bytes come with them: no
# URL import records them (it takes the type from the bytes, and refuses an HTML page).
PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# Objects read whole at once to check SVGs: each holds a chunk, its parse runs in a thread.
SVGS_AT_ONCE = 16

# EXIF orientations that turn the picture a quarter: its stored width is its displayed height.
_QUARTER_TURNS = {5, 6, 7, 8}
_ORIENTATION = 0x0112


@dataclass(frozen=True)
class Refusal:
    """Why no asset may be an object: the reason code and words a URL import gives."""

    code: str
    reason: str


@dataclass(frozen=True)
class Facts:
    size: int
    mime: str
    width: int | None = None  # images whose header the first bytes hold; SVGs once checked
    height: int | None = None
    turned: bool = False  # EXIF says to turn it a quarter
    refusal: Refusal | None = None

    @property
    def is_video(self) -> bool:
        return self.mime in VIDEO_TYPES

    @property
    def needs_header(self) -> bool:
        """A raster image whose dimensions its first bytes did not hold."""
        return self.mime.startswith("image/") and self.mime != SVG and self.width is None


_HTML_PAGE = Refusal("unsupported_type", "the bytes are an HTML page")


def read_facts(size: int, head: bytes) -> Facts:
    sniffed = sniff(head)
    if sniffed == HTML:
        return Facts(size, sniffed.mime, refusal=_HTML_PAGE)
    if not sniffed.is_image or sniffed.mime == SVG:
        return Facts(size, sniffed.mime)  # an SVG: `with_svgs_checked` reads it whole
    if sniffed.mime == JPEG and (header := read_jpeg_header(head)) is not None:
        turned = header.orientation in _QUARTER_TURNS
        return Facts(size, sniffed.mime, header.width, header.height, turned)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(head)) as image:
                width, height = image.size
                turned = image.getexif().get(_ORIENTATION) in _QUARTER_TURNS
    except Exception:
        return Facts(size, sniffed.mime)
    return Facts(size, sniffed.mime, width, height, turned)


def is_page_type(mime: str) -> bool:
    """Whether a declared type makes a browser show the bytes as a page (any case, any
    parameters: `Text/HTML; charset=utf-8` is one)."""
    return mime.split(";", 1)[0].strip().lower() in PAGE_TYPES


async def with_svgs_checked(
    storage: Storage, facts: Mapping[str, Facts | None]
) -> dict[str, Facts | None]:
    """`facts` with each SVG read whole and checked as a URL import checks it (svg.py): its
    size, or why it is refused. None for an object gone meanwhile."""
    gate = asyncio.Semaphore(SVGS_AT_ONCE)

    async def one(key: str, found: Facts) -> tuple[str, Facts | None]:
        async with gate:
            return key, await _svg_facts(storage, key, found)

    svgs = [one(key, found) for key, found in facts.items() if found and found.mime == SVG]
    return dict(facts) | dict(await asyncio.gather(*svgs))


async def _svg_facts(storage: Storage, key: str, found: Facts) -> Facts | None:
    if found.size > SVG_MAX_BYTES:
        return _refused(found, "too_large", f"an SVG of more than {SVG_MAX_BYTES} bytes")
    body = await storage.get(key)
    if body is None:
        return None
    check, read = SvgCheck(), 0
    try:
        # A chunk at a time, each parsed in a thread: an SVG of megabytes holds neither the
        # memory nor the event loop.
        async for chunk in body.chunks:
            read += len(chunk)
            if read > SVG_MAX_BYTES:
                return _refused(found, "too_large", f"an SVG of more than {SVG_MAX_BYTES} bytes")
            await asyncio.to_thread(check.feed, chunk)
        width, height = await asyncio.to_thread(check.close)
    except ItemError as refused:
        return _refused(found, refused.code, refused.message)
    return dataclasses.replace(found, width=width, height=height)


def _refused(found: Facts, code: str, reason: str) -> Facts:
    return dataclasses.replace(found, refusal=Refusal(code, reason))
