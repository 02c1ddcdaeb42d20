"""Where a rendition's pixels come from and where they go, worked out before any pixel is read:
a region of the source (`rect`), the scale it is drawn at, the part of it kept (`fit=crop`,
`fit=min`) and the canvas it is set on (`fit=fill`). Pure arithmetic on sizes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NoReturn

from medialib.errors import BadRequest
from medialib.media.renditions.params import Spec

Box = tuple[int, int, int, int]  # x, y, width, height


@dataclass(frozen=True)
class Plan:
    region: Box  # of the source, as it is displayed (EXIF orientation applied)
    scale_x: float  # region -> resized
    scale_y: float
    resized: tuple[int, int]
    keep: Box | None  # the part of the resized region kept, when cropping
    canvas: tuple[int, int] | None  # fill: the size the picture is centred on
    # Keep the busiest part (crop=entropy), found by libvips: it makes the whole resized region
    # to search it, where other crops make only the kept box.
    entropy: bool = False

    @property
    def size(self) -> tuple[int, int]:
        if self.canvas is not None:
            return self.canvas
        if self.keep is not None:
            return self.keep[2], self.keep[3]
        return self.resized


def plan(source_w: int, source_h: int, spec: Spec, max_side: int) -> Plan:
    """The plan for a `source_w` x `source_h` picture; no side of the result exceeds `max_side`
    (a request for more gets the largest picture that fits, as imgix clamps)."""
    region = _region(source_w, source_h, spec.rect)
    target_w = _target(spec.w, source_w, spec.dpr)
    target_h = _target(spec.h, source_h, spec.dpr)
    made = _plan(region, target_w, target_h, spec)
    largest = max(made.size)
    if largest <= max_side:
        return made
    shrink = max_side / largest
    if target_w is None and target_h is None:
        target_w = region[2] * made.scale_x
    made = _plan(
        region,
        None if target_w is None else target_w * shrink,
        None if target_h is None else target_h * shrink,
        spec,
    )
    width, height = made.size
    if max(width, height) > max_side:  # rounding up by a pixel
        made = _clamp(made, max_side)
    return made


def check_work(made: Plan, frames: int, max_pixels: int, max_frames_pixels: int) -> None:
    """Refuse, before a pixel is decoded, a rendition that makes more pixels than a source may
    have: one frame at most `max_pixels`, all of an animation's at most `max_frames_pixels`. A
    tiny GIF asked for large costs what it makes, not what it weighs."""
    width, height = made.resized if made.entropy else made.size
    frame = width * height
    if frame > max_pixels:
        _too_large(f"{width}x{height} = {frame:,}", max_pixels, "")
    if frame * frames > max_frames_pixels:
        _too_large(
            f"{width}x{height} x {frames} frames = {frame * frames:,}",
            max_frames_pixels,
            ", or a still format (fm=jpg or png: its first frame)",
        )


def _too_large(made: str, limit: int, instead: str) -> NoReturn:
    raise BadRequest(
        "too large a rendition",
        details={
            "image": f"the rendition makes {made} pixels, more than {limit:,}: "
            f"ask for a smaller one{instead}"
        },
    )


def _region(source_w: int, source_h: int, rect: Box | None) -> Box:
    if rect is None:
        return 0, 0, source_w, source_h
    x, y, w, h = rect
    if x >= source_w or y >= source_h:
        raise BadRequest(
            "rect outside the image",
            details={"rect": f"starts outside the {source_w}x{source_h} image"},
        )
    return x, y, min(w, source_w - x), min(h, source_h - y)


def _target(asked: float | None, source: int, dpr: float) -> float | None:
    if asked is None:
        return None
    pixels = asked * source if asked < 1 else asked
    return pixels * dpr


def _plan(region: Box, tw: float | None, th: float | None, spec: Spec) -> Plan:
    rw, rh = region[2], region[3]
    fit = spec.fit
    if tw is None and th is None:
        return _uniform(region, 1.0)
    if tw is None or th is None:
        scale = tw / rw if tw is not None else th / rh  # type: ignore[operator]
        if fit in ("max", "min"):
            scale = min(scale, 1.0)
        return _uniform(region, scale)
    if fit == "scale":
        size = (max(1, round(tw)), max(1, round(th)))
        return Plan(region, size[0] / rw, size[1] / rh, size, None, None)
    if fit in ("clip", "max", "fill"):
        scale = min(tw / rw, th / rh)
        if fit == "max":
            scale = min(scale, 1.0)
        made = _uniform(region, scale)
        if fit == "fill":
            return replace(made, canvas=(max(1, round(tw)), max(1, round(th))))
        return made
    # crop and min: cover the box, then keep the box.
    scale = max(tw / rw, th / rh)
    if fit == "min" and scale > 1:
        tw, th, scale = tw / scale, th / scale, 1.0
    made = _uniform(region, scale)
    keep_w = min(max(1, round(tw)), made.resized[0])
    keep_h = min(max(1, round(th)), made.resized[1])
    return replace(
        made,
        keep=_place(made.resized, keep_w, keep_h, spec),
        entropy="entropy" in spec.crop and not _edges(spec.crop),
    )


def _uniform(region: Box, scale: float) -> Plan:
    size = (max(1, round(region[2] * scale)), max(1, round(region[3] * scale)))
    return Plan(region, size[0] / region[2], size[1] / region[3], size, None, None)


def _edges(crop: tuple[str, ...]) -> set[str]:
    return {mode for mode in crop if mode in ("top", "bottom", "left", "right")}


def _place(resized: tuple[int, int], keep_w: int, keep_h: int, spec: Spec) -> Box:
    """Where the kept box sits: at the named edges, around the focal point, or centred."""
    width, height = resized
    edges = _edges(spec.crop)
    fx, fy = spec.fp if "focalpoint" in spec.crop else (0.5, 0.5)
    x = _offset(width, keep_w, fx, "left" in edges, "right" in edges)
    y = _offset(height, keep_h, fy, "top" in edges, "bottom" in edges)
    return x, y, keep_w, keep_h


def _offset(length: int, keep: int, focus: float, low: bool, high: bool) -> int:
    if low and not high:
        return 0
    if high and not low:
        return length - keep
    return min(max(0, round(focus * length - keep / 2)), length - keep)


def _clamp(made: Plan, max_side: int) -> Plan:
    def fit(size: tuple[int, int]) -> tuple[int, int]:
        return min(size[0], max_side), min(size[1], max_side)

    if made.canvas is not None:
        return replace(made, canvas=fit(made.canvas))
    if made.keep is not None:
        x, y, w, h = made.keep
        return replace(made, keep=(x, y, *fit((w, h))))
    width, height = fit(made.resized)
    region_w, region_h = made.region[2], made.region[3]
    return replace(
        made, resized=(width, height), scale_x=width / region_w, scale_y=height / region_h
    )
