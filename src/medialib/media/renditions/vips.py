"""libvips making one rendition: CPU work on one picture, called from a thread.

`thumbnail` loads the source already shrunk where the format allows (a JPEG decoded at 1/2, 1/4
or 1/8 of its size, a WebP at any scale), applies the EXIF orientation and keeps the ICC
profile; the plan (geometry.py) decides everything else before a pixel is read. Only
engine.py imports this module, on the first rendition.
"""

from __future__ import annotations

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
from medialib.media.renditions.params import Spec

# libvips' operation cache would keep decoded sources alive between requests, and a loader
# libvips itself calls untrusted (ImageMagick, MATLAB, FITS...) never sees a byte of ours.
pyvips.cache_set_max(0)
pyvips.block_untrusted_set(True)

# The formats medialib renders from: what imports accept (SVG is served as it is), and the
# still formats a synchronous import may register.
_LOADERS = ("jpegload", "pngload", "gifload", "webpload", "heifload", "tiffload")
_ANIMATED_OUTPUTS = ("gif", "webp")
_WHITE = (255, 255, 255, 255)
_DEFAULT_QUALITY = 75  # imgix's


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
    animated = (
        pages > 1
        and output in _ANIMATED_OUTPUTS
        and pages * width * height <= limits.max_frames_pixels
    )
    made = plan(width, height, spec, limits.max_side)
    check_work(made, pages if animated else 1, limits.max_pixels, limits.max_frames_pixels)
    image, region = _load(source, made, width, height, animated)
    _stoppable(image, stop)  # before the frames are cut: all they make can be stopped
    frames = [_shape(frame, made, region, spec, output) for frame in _frames(image)]
    result = _join(frames)
    result = _credits_only(result)
    data = _save(result, spec, output)
    return Rendered(data, OUTPUT_TYPES[output], frames[0].width, frames[0].height, len(frames))


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


def _frames(image: pyvips.Image) -> list[pyvips.Image]:
    """An animation's frames (libvips holds them stacked in one tall image); else the image."""
    if "page-height" not in image.get_fields():
        return [image]
    page_height = int(image.get("page-height"))
    count = image.height // page_height
    if count <= 1:
        return [image]
    return [image.crop(0, i * page_height, image.width, page_height) for i in range(count)]


def _shape(frame: pyvips.Image, made: Plan, region: Box, spec: Spec, output: str) -> pyvips.Image:
    """One frame through the plan: the region, the scale left to do, the kept box, the canvas,
    and a background wherever the output cannot be transparent."""
    x, y, w, h = region
    if (spec.bg or spec.fill_color) and frame.bands - int(frame.hasalpha()) < 3:
        frame = frame.colourspace("srgb")  # a grey picture on a coloured background
    if (x, y, w, h) != (0, 0, frame.width, frame.height):
        frame = frame.extract_area(x, y, w, h)
    want_w, want_h = made.resized
    if (frame.width, frame.height) != (want_w, want_h):
        frame = frame.resize(want_w / frame.width, vscale=want_h / frame.height)
    if made.keep is not None:
        frame = _keep(frame, made)
    if made.canvas is not None:
        frame = _fill(frame, made.canvas, spec, output)
    if frame.hasalpha() and (output in ("jpg", "pjpg") or (spec.bg and spec.bg[3] == 255)):
        frame = frame.flatten(background=list((spec.bg or _WHITE)[:3]))
    return frame


def _keep(frame: pyvips.Image, made: Plan) -> pyvips.Image:
    assert made.keep is not None
    x, y, w, h = made.keep
    w, h = min(w, frame.width), min(h, frame.height)
    if made.entropy:
        return frame.smartcrop(w, h, interesting="entropy")
    x, y = min(x, frame.width - w), min(y, frame.height - h)
    return frame.extract_area(x, y, w, h)


def _fill(frame: pyvips.Image, canvas: tuple[int, int], spec: Spec, output: str) -> pyvips.Image:
    color = spec.fill_color or spec.bg
    if color is None:
        color = _WHITE if output in ("jpg", "pjpg") else (0, 0, 0, 0)
    if color[3] < 255 and not frame.hasalpha():
        frame = frame.bandjoin_const([255])
    background = list(color[: frame.bands]) if frame.bands < 4 else list(color)
    return frame.gravity("centre", *canvas, extend="background", background=background)


def _join(frames: list[pyvips.Image]) -> pyvips.Image:
    if len(frames) == 1:
        return frames[0]
    joined = pyvips.Image.arrayjoin(frames, across=1).copy()
    joined.set_type(pyvips.GValue.gint_type, "page-height", frames[0].height)
    joined.set_type(pyvips.GValue.gint_type, "n-pages", len(frames))
    return joined


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
    quality = spec.q or _DEFAULT_QUALITY
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
