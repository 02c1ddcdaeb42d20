"""Where a rendition's pixels come from and where they go, worked out before any pixel is read:
a region of the source (`rect`), the scale it is drawn at, the part of it kept (`fit=crop`,
`fit=min`) and the canvas it is set on (`fit=fill`). Pure arithmetic on sizes.

The kept part is placed by the named edges, the busiest part (libvips finds it), a focal point
or the picture's faces (`read_focus` takes them from what its entry stores, whatever that
holds: a bad value is no focus, never an error).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import NoReturn

from medialib.errors import BadRequest
from medialib.media.analysis.records import Box as Face
from medialib.media.renditions.params import Spec

Box = tuple[int, int, int, int]  # x, y, width, height
Span = tuple[float, float]  # start, end: a face's extent along one axis, in pixels

# Around each face the crop keeps a third of its size when it can: a detector's box holds
# brows to mouth, not the hair, the chin or the ears.
FACE_MARGIN = 1 / 3
# The faces a crop is placed by, the largest: a crowd's smallest faces do not move a crop,
# and a stored list of any length costs no more than these.
MAX_FACES = 32
# Faces smaller than this fraction of the picture's side are noise, not a face to keep.
MIN_FACE = 1e-3


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
    aim = _aim(spec, source_w, source_h, region)
    target_w = _target(spec.w, source_w, spec.dpr)
    target_h = _target(spec.h, source_h, spec.dpr)
    made = _plan(region, target_w, target_h, spec, aim)
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
        aim,
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


def _plan(region: Box, tw: float | None, th: float | None, spec: Spec, aim: Aim) -> Plan:
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
        keep=_place(made.resized, keep_w, keep_h, spec.crop, aim),
        entropy="entropy" in spec.crop and not _edges(spec.crop) and not _by_faces(spec),
    )


def _uniform(region: Box, scale: float) -> Plan:
    size = (max(1, round(region[2] * scale)), max(1, round(region[3] * scale)))
    return Plan(region, size[0] / region[2], size[1] / region[3], size, None, None)


def _edges(crop: tuple[str, ...]) -> set[str]:
    return {mode for mode in crop if mode in ("top", "bottom", "left", "right")}


def _place(
    resized: tuple[int, int], keep_w: int, keep_h: int, crop: Sequence[str], aim: Aim
) -> Box:
    """Where the kept box sits: around the faces, at the named edges, around the focal point,
    or centred."""
    width, height = resized
    if aim.faces:
        faces = sorted(aim.faces, key=lambda face: face.width * face.height, reverse=True)
        x = faces_offset(width, keep_w, [(f.x * width, (f.x + f.width) * width) for f in faces])
        y = faces_offset(height, keep_h, [(f.y * height, (f.y + f.height) * height) for f in faces])
        return x, y, keep_w, keep_h
    edges = _edges(tuple(crop))
    fx, fy = aim.point
    x = _offset(width, keep_w, fx, "left" in edges, "right" in edges)
    y = _offset(height, keep_h, fy, "top" in edges, "bottom" in edges)
    return x, y, keep_w, keep_h


def faces_offset(length: int, keep: int, spans: Sequence[Span]) -> int:
    """Where a window `keep` long starts on an axis `length` long to keep faces, given their
    spans on the axis, the largest face's first: centred on as many of them as it holds with a
    margin (the largest first, then each one more that still fits), as far as the ends of the
    axis allow. The largest face counts even when the window cannot hold it: the window is
    then centred on it."""
    held = spans[0]
    margin = (held[1] - held[0]) * FACE_MARGIN
    for start, end in spans[1:]:
        wider = (min(held[0], start), max(held[1], end))
        if wider[1] - wider[0] + 2 * margin <= keep:
            held = wider
    return _within(length, keep, (held[0] + held[1]) / 2)


def _offset(length: int, keep: int, focus: float, low: bool, high: bool) -> int:
    if low and not high:
        return 0
    if high and not low:
        return length - keep
    return _within(length, keep, focus * length)


def _within(length: int, keep: int, centre: float) -> int:
    """Where a window `keep` long centred on `centre` starts, moved to lie within `length`."""
    return min(max(0, round(centre - keep / 2)), length - keep)


# --- The picture's focus ----------------------------------------------------------------------


@dataclass(frozen=True)
class Aim:
    """What a crop is placed around, in fractions of the region (`rect`, else the picture):
    faces, when the crop goes by faces, else a point (the centre when nothing else is)."""

    point: tuple[float, float] = (0.5, 0.5)
    faces: tuple[Face, ...] = ()


def _by_faces(spec: Spec) -> bool:
    return "faces" in spec.crop and bool(spec.faces)


def _aim(spec: Spec, source_w: int, source_h: int, region: Box) -> Aim:
    """The spec's faces or focal point in the region's terms: what the picture's entry stores
    is a fraction of the whole picture, what a URL gives (fp-x, fp-y) one of the region."""
    x, y, w, h = region
    if _by_faces(spec):
        inside = (_face_in(face, source_w, source_h, region) for face in spec.faces)
        return Aim(faces=tuple(face for face in inside if face is not None))
    if not {"focalpoint", "faces"} & set(spec.crop):
        return Aim()
    return Aim(
        point=(
            _point_in(spec.fp[0], spec.focus[0], x, w, source_w),
            _point_in(spec.fp[1], spec.focus[1], y, h, source_h),
        )
    )


def _point_in(
    asked: float | None, stored: float | None, offset: int, length: int, whole: int
) -> float:
    """One axis of the focal point, as a fraction of the region: the one asked for, else the
    picture's own (moved into the region), else the centre."""
    if asked is not None:
        return asked
    if stored is None:
        return 0.5
    return min(max((stored * whole - offset) / length, 0.0), 1.0)


def _face_in(face: Face, source_w: int, source_h: int, region: Box) -> Face | None:
    """The part of a face (fractions of the picture) inside the region, in fractions of the
    region; None when none of it is."""
    x, y, w, h = region
    left = max((face.x * source_w - x) / w, 0.0)
    right = min(((face.x + face.width) * source_w - x) / w, 1.0)
    top = max((face.y * source_h - y) / h, 0.0)
    bottom = min(((face.y + face.height) * source_h - y) / h, 1.0)
    if right <= left or bottom <= top:
        return None
    return Face(left, top, right - left, bottom - top)


@dataclass(frozen=True)
class StoredFocus:
    """A picture's focal point and faces (fractions of it as displayed), as renditions use
    them: checked, the largest faces first."""

    point: tuple[float, float] | None = None
    faces: tuple[Face, ...] = ()


# Items of a stored `faces` list looked at: enough for any detector's, bounded for any list.
_FACES_READ = 1000


def read_focus(asset: object) -> StoredFocus:
    """The focal point and faces of an asset as its entry stores them (`focalPoint`: x and y;
    `faces`: x, y, width and height each). Whatever they hold, this is no error: a value that
    is no fraction of the picture (not a number, NaN, below 0, above 1, missing) makes its
    point or its face count for nothing, and a face past the picture's edge is cut to it."""
    if not isinstance(asset, Mapping):
        return StoredFocus()
    point = asset.get("focalPoint")
    found = _fractions(point, ("x", "y"))
    stored = asset.get("faces")
    faces = stored[:_FACES_READ] if isinstance(stored, list) else []
    boxes = [_face(face) for face in faces]
    largest = sorted(
        (box for box in boxes if box is not None),
        key=lambda box: (-box.width * box.height, box.x, box.y),
    )
    return StoredFocus(
        point=None if found is None else (found[0], found[1]),
        faces=tuple(largest[:MAX_FACES]),
    )


def _face(value: object) -> Face | None:
    found = _fractions(value, ("x", "y", "width", "height"))
    if found is None:
        return None
    x, y, width, height = found
    width, height = min(width, 1 - x), min(height, 1 - y)  # cut to the picture
    if width < MIN_FACE or height < MIN_FACE:
        return None
    return Face(x, y, width, height)


def _fractions(value: object, names: tuple[str, ...]) -> list[float] | None:
    """The members `names` of a JSON object, each a fraction from 0 to 1 (rounded as the
    analysis stores them); None unless all are."""
    if not isinstance(value, Mapping):
        return None
    found = [_fraction(value.get(name)) for name in names]
    return None if None in found else [round(number, 4) for number in found if number is not None]


def _fraction(value: object) -> float | None:
    # bool is an int; an int too large for a float is no fraction either.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not 0 <= value <= 1:  # NaN compares False: refused here too
        return None
    return float(value)


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
