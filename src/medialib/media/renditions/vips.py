"""libvips making one rendition: CPU work on one picture, called from a thread.

`thumbnail` loads the source already shrunk where the format allows (a JPEG decoded at 1/2, 1/4
or 1/8 of its size, a WebP at any scale), applies the EXIF orientation and keeps the ICC
profile; the plan (geometry.py) decides everything else before a pixel is read. Only
engine.py imports this module, on the first rendition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pyvips

from medialib.errors import BadRequest
from medialib.media.renditions.credits import exif_block, iptc_block, read_credits, xmp_block
from medialib.media.renditions.geometry import Box, Plan, check_work, plan
from medialib.media.renditions.outputs import (
    OUTPUT_TYPES,
    EngineLimits,
    Rendered,
    Source,
    Stop,
)
from medialib.media.renditions.params import CLEAR, DEFAULT_QUALITY, OPAQUE, WHITE, Spec

# libvips' operation cache would keep decoded sources alive between requests, and a loader
# libvips itself calls untrusted (ImageMagick, MATLAB, FITS...) never sees a byte of ours.
pyvips.cache_set_max(0)
pyvips.block_untrusted_set(True)

# The formats medialib renders from: what imports accept (SVG is served as it is), and the
# still formats a synchronous import may register.
_LOADERS = ("jpegload", "pngload", "gifload", "webpload", "heifload", "tiffload")
_ANIMATED_OUTPUTS = ("gif", "webp")
# The largest animation held in memory for work done frame by frame (_held): 32 MB of RGBA.
_HELD_PIXELS = 8_000_000


def render(source: Source, spec: Spec, output: str, limits: EngineLimits, stop: Stop) -> Rendered:
    """The rendition of `source` asked for by `spec`, encoded as `output` (one of FORMATS);
    `stop` (called from another thread) ends it with BadRequest."""
    try:
        return _render(source, spec, output, limits, stop)
    except pyvips.Error as exc:
        if stop.stopped:
            raise BadRequest(
                "render took too long",
                details={
                    "image": f"took more than {limits.max_seconds:g} s to render and was "
                    "stopped: ask for a smaller rendition or another format"
                },
            ) from exc
        reason = str(exc.detail or exc.message).strip().splitlines()[0][:200]
        raise BadRequest(
            "unrenderable image", details={"image": f"cannot be rendered: {reason}"}
        ) from exc


def _stoppable(image: pyvips.Image, stop: Stop) -> None:
    """Let `stop` end all the work done from `image` (the loaded source, before anything else
    is made of it). Every image made from one marked with `set_progress` reports its progress
    on it, and libvips (>= 8.16) checks that image's kill wherever it checks for one: before
    each tile, between frames, in the WebP encoder. A kill fails the work where it stands; its
    threads finish their tile and exit before the call that started them returns. With no
    handler connected until the deadline, the reports cost no Python (nor the GIL) till then."""
    image.set_progress(True)
    stop.by(lambda: _kill(image))


def _kill(image: pyvips.Image) -> None:
    # Each pass over the pixels (a smartcrop's search, then the save) clears the kill as it
    # starts: set it at every report of progress from now on, and now for the pass under way.
    image.signal_connect("eval", _kill_again)
    image.set_kill(True)


def _kill_again(image: pyvips.Image, _progress: object) -> None:
    image.set_kill(True)


def _render(source: Source, spec: Spec, output: str, limits: EngineLimits, stop: Stop) -> Rendered:
    header = _open(source)  # the header only: no pixel is decoded yet
    loader = str(header.get("vips-loader"))
    if not loader.startswith(_LOADERS):
        raise BadRequest(
            "not a rendered format",
            details={
                "image": "only JPEG, PNG, GIF, WebP, HEIF/AVIF and TIFF images have renditions"
            },
        )
    fields = set(header.get_fields())
    pages = int(header.get("n-pages")) if "n-pages" in fields else 1
    width = header.width
    height = (
        int(header.get("page-height")) if pages > 1 and "page-height" in fields else header.height
    )
    if width * height > limits.max_pixels:
        raise BadRequest(
            "too many pixels",
            details={"image": f"{width}x{height} is more than {limits.max_pixels:,} pixels"},
        )
    if "orientation" in fields and int(header.get("orientation")) in (5, 6, 7, 8):
        width, height = height, width
    # All frames, or the first only: for a still output, and for a source with more frames,
    # or more pixels in them, than a rendition makes (what a source is decides, never the
    # size asked for).
    animated = (
        1 < pages <= limits.max_frames
        and output in _ANIMATED_OUTPUTS
        and pages * width * height <= limits.max_frames_pixels
    )
    made = plan(width, height, spec, limits.max_side)
    check_work(made, pages if animated else 1, limits.max_pixels, limits.max_frames_pixels)
    image, region = _load(source, made, width, height, animated)
    _stoppable(image, stop)  # before anything is made of it: all that is can be stopped
    strip = _shape(Strip(image, _pages(image)), made, region, spec, output, stop)
    result = _credits_only(strip.image)
    data = _save(result, spec, output)
    return Rendered(data, OUTPUT_TYPES[output], strip.width, strip.page_height, strip.pages)


def _open(source: Source, **options: object) -> pyvips.Image:
    if isinstance(source, Path):
        return pyvips.Image.new_from_file(str(source), **options)
    return pyvips.Image.new_from_buffer(source, "", **options)


def _load(
    source: Source, made: Plan, width: int, height: int, animated: bool
) -> tuple[pyvips.Image, Box]:
    """The source, oriented, at the plan's scale when it shrinks (so that the loader can shrink
    as it decodes), else at its own size; and the plan's region in that image's pixels."""
    shrinking = made.scale_x <= 1 and made.scale_y <= 1
    scale_x, scale_y = (made.scale_x, made.scale_y) if shrinking else (1.0, 1.0)
    whole_w, whole_h = max(1, round(width * scale_x)), max(1, round(height * scale_y))
    options: dict[str, object] = {"height": whole_h, "size": "force", "fail_on": "error"}
    if isinstance(source, Path):
        name = str(source) + ("[n=-1]" if animated else "")
        image = pyvips.Image.thumbnail(name, whole_w, **options)
    else:
        option_string = "n=-1" if animated else ""
        image = pyvips.Image.thumbnail_buffer(
            source, whole_w, option_string=option_string, **options
        )
    x, y, w, h = made.region
    region = (
        min(round(x * scale_x), whole_w - 1),
        min(round(y * scale_y), whole_h - 1),
        max(1, round(w * scale_x)),
        max(1, round(h * scale_y)),
    )
    rx, ry, rw, rh = region
    return image, (rx, ry, min(rw, whole_w - rx), min(rh, whole_h - ry))


@dataclass(frozen=True)
class Strip:
    """A picture, or an animation's frames as libvips holds them: stacked in one tall image,
    `pages` frames of `page_height` rows. Work that keeps each frame's rows where they are
    (cutting columns, shrinking, padding the sides, colours) is done on the strip whole, one
    libvips operation whatever the frames; only work that moves rows within a frame is done
    frame by frame (`each`), once per render."""

    image: pyvips.Image
    pages: int = 1

    @property
    def width(self) -> int:
        return int(self.image.width)

    @property
    def page_height(self) -> int:
        return int(self.image.height) // self.pages

    def each(self, make: Callable[[Strip], Strip]) -> Strip:
        """`make` applied to each frame on its own (making all frames one size), restacked."""
        height = self.page_height
        frames = [
            make(Strip(self.image.extract_area(0, i * height, self.width, height))).image
            for i in range(self.pages)
        ]
        return _paged(pyvips.Image.arrayjoin(frames, across=1), self.pages)

    def map(self, make: Callable[[pyvips.Image], pyvips.Image]) -> Strip:
        """`make` on the whole strip: for work on each pixel alone (colours, alpha)."""
        return _paged(make(self.image), self.pages)

    def crop(self, x: int, y: int, w: int, h: int) -> Strip:
        if (x, y, w, h) == (0, 0, self.width, self.page_height):
            return self
        if self.pages == 1:
            return Strip(self.image.extract_area(x, y, w, h))
        assert (y, h) == (0, self.page_height), "rows move: use each"
        return _paged(self.image.extract_area(x, 0, w, self.image.height), self.pages)

    def resize(self, width: int, height: int) -> Strip:
        """Shrunk as a strip, as libvips' own thumbnail shrinks animations (a frame's edge row
        takes a little of its neighbour's); a frame grown would take many rows of it."""
        if (width, height) == (self.width, self.page_height):
            return self
        assert self.pages == 1 or height <= self.page_height, "a frame grows: use each"
        scaled = self.image.resize(width / self.width, vscale=height / self.page_height)
        return _paged(scaled, self.pages)

    def pad(self, width: int, height: int, background: list[int]) -> Strip:
        """Centred on a `width` x `height` canvas of `background`."""
        assert self.pages == 1 or height == self.page_height, "rows move: use each"
        padded = self.image.gravity(
            "centre", width, height * self.pages, extend="background", background=background
        )
        return _paged(padded, self.pages)


def _pages(image: pyvips.Image) -> int:
    if "page-height" not in image.get_fields():
        return 1
    page_height = int(image.get("page-height"))
    return max(1, image.height // page_height) if 0 < page_height < image.height else 1


def _paged(image: pyvips.Image, pages: int) -> Strip:
    if pages > 1:
        image = image.copy()  # metadata is set on a copy: the image may be shared
        image.set_type(pyvips.GValue.gint_type, "page-height", image.height // pages)
        image.set_type(pyvips.GValue.gint_type, "n-pages", pages)
    return Strip(image, pages)


def _shape(strip: Strip, made: Plan, region: Box, spec: Spec, output: str, stop: Stop) -> Strip:
    """The picture through the plan: the region, the scale left to do, the kept box, the
    canvas, and a background wherever the output cannot be transparent."""
    if (spec.bg or spec.fill_color) and strip.image.bands - int(strip.image.hasalpha()) < 3:
        strip = strip.map(lambda image: image.colourspace("srgb"))  # grey on a colour
    if strip.pages > 1 and made.entropy:
        made = _entropy_box(strip, made, region, stop)

    def geometry(one: Strip) -> Strip:
        return _geometry(one, made, region, spec, output, stop)

    if strip.pages > 1 and _moves_rows(strip.page_height, made, region):
        strip = _held(strip, stop).each(geometry)
    else:
        strip = geometry(strip)
    if strip.image.hasalpha() and (output in OPAQUE or (spec.bg and spec.bg[3] == 255)):
        background = list((spec.bg or WHITE)[:3])
        strip = strip.map(lambda image: image.flatten(background=background))
    return strip


def _held(strip: Strip, stop: Stop) -> Strip:
    """The strip, held in memory when it is small. Work cut frame by frame on an animation
    libvips decodes as it goes grows worse than its frames count (500 frames of 100x100,
    padded to 100x150: 12 s; held, 1 s); past the bound it is done so, within the deadline."""
    if strip.image.width * strip.image.height > _HELD_PIXELS:
        return strip
    return _paged(_in_memory(strip.image, stop), strip.pages)


def _geometry(strip: Strip, made: Plan, region: Box, spec: Spec, output: str, stop: Stop) -> Strip:
    strip = strip.crop(*region).resize(*made.resized)
    if made.keep is not None:
        strip = _keep(strip, made, stop)
    if made.canvas is not None:
        strip = _fill(strip, made.canvas, spec, output)
    return strip


def _moves_rows(page_height: int, made: Plan, region: Box) -> bool:
    """Whether the plan moves rows within a frame: cuts rows, grows, or pads above and below."""
    _, y, _, h = region
    height = made.resized[1]
    moves = (y, h) != (0, page_height) or height > h
    if made.keep is not None:
        kept = min(made.keep[3], height)
        moves = moves or kept != height
        height = kept
    return moves or (made.canvas is not None and made.canvas[1] != height)


def _keep(strip: Strip, made: Plan, stop: Stop) -> Strip:
    assert made.keep is not None
    x, y, w, h = made.keep
    w, h = min(w, strip.width), min(h, strip.page_height)
    if made.entropy:
        return _busiest(strip.image, w, h, stop)
    x, y = min(x, strip.width - w), min(y, strip.page_height - h)
    return strip.crop(x, y, w, h)


def _busiest(frame: pyvips.Image, w: int, h: int, stop: Stop) -> Strip:
    """The busiest `w` x `h` box of a frame, as libvips' smartcrop finds it. smartcrop reads its
    input several times over, and a source is decoded in one pass down the picture: the frame
    is made in memory first, as large as check_work lets it be."""
    return Strip(_in_memory(frame, stop).smartcrop(w, h, interesting="entropy"))


def _entropy_box(strip: Strip, made: Plan, region: Box, stop: Stop) -> Plan:
    """An animation keeps from every frame the box found busiest in its first. smartcrop cuts
    with extract_area, which records where it cut as the result's offset."""
    first = Strip(strip.image.extract_area(0, 0, strip.width, strip.page_height))
    first = first.crop(*region).resize(*made.resized)
    assert made.keep is not None
    _, _, w, h = made.keep
    w, h = min(w, first.width), min(h, first.page_height)
    found = _busiest(first.image, w, h, stop).image
    return replace(made, keep=(-int(found.xoffset), -int(found.yoffset), w, h), entropy=False)


def _in_memory(image: pyvips.Image, stop: Stop) -> pyvips.Image:
    """`image` made now and held in memory; what is made from it can still be stopped."""
    held = image.copy_memory()
    _stoppable(held, stop)
    return held


def _fill(strip: Strip, canvas: tuple[int, int], spec: Spec, output: str) -> Strip:
    color = spec.fill_color or spec.bg
    if color is None:
        color = WHITE if output in OPAQUE else CLEAR
    if color[3] < 255 and not strip.image.hasalpha():
        strip = strip.map(lambda image: image.bandjoin_const([255]))
    bands = strip.image.bands
    background = list(color[:bands]) if bands < 4 else list(color)
    return strip.pad(*canvas, background=background)


def _credits_only(image: pyvips.Image) -> pyvips.Image:
    """The image with its ICC profile, its creators and its copyright, and no other metadata."""
    fields = image.get_fields()
    credits = read_credits(
        *(_blob(image, fields, n) for n in ("exif-data", "iptc-data", "xmp-data"))
    )
    image = image.copy()
    for name in fields:
        if name.startswith("exif-") or name in ("xmp-data", "iptc-data"):
            image.remove(name)
    if credits:
        image.set_type(pyvips.GValue.blob_type, "exif-data", exif_block(credits))
        image.set_type(pyvips.GValue.blob_type, "xmp-data", xmp_block(credits))
        image.set_type(pyvips.GValue.blob_type, "iptc-data", iptc_block(credits))
    return image


def _blob(image: pyvips.Image, fields: list[str], name: str) -> bytes | None:
    return bytes(image.get(name)) if name in fields else None


def _save(image: pyvips.Image, spec: Spec, output: str) -> bytes:
    keep = "icc,exif,xmp,iptc"
    quality = spec.q or DEFAULT_QUALITY
    if output in ("jpg", "pjpg"):
        return bytes(
            image.jpegsave_buffer(
                Q=quality, interlace=output == "pjpg", optimize_coding=True, keep=keep
            )
        )
    if output == "png":
        return bytes(image.pngsave_buffer(keep=keep))
    if output == "webp":
        return bytes(image.webpsave_buffer(Q=quality, keep=keep))
    if output == "avif":
        return bytes(image.heifsave_buffer(Q=quality, compression="av1", effort=2, keep=keep))
    return bytes(image.gifsave_buffer(keep=keep))
