"""imgix's URL parameters, read into a `Spec`, and the variant a spec names: the spec with
every value that cannot change the picture's bytes taken out (`variant_of`), so that URLs asking
for the same picture share one stored variant. A variant is made from that spec, not from the
URL's: two URLs that share a name are made alike by construction.

Unknown parameters are ignored, as imgix ignores them; a known parameter with a bad value is a
BadRequest naming it.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace

from medialib.errors import BadRequest
from medialib.media.analysis.records import Box
from medialib.parsing import whole_number

FITS = ("clip", "crop", "max", "min", "scale", "fill")
EDGES = ("top", "bottom", "left", "right")
# faces: around the faces the import found in the picture (its entry's asset keeps them), and
# where it found none, around its focal point (as focalpoint does). edges needs a detector
# medialib does not have: imgix falls back to the other modes given (or the centre) when it
# finds none, and so does medialib, always.
CROP_MODES = (*EDGES, "focalpoint", "center", "entropy", "faces", "edges")
FORMATS = ("jpg", "pjpg", "png", "webp", "avif", "gif")
LOSSY = ("jpg", "pjpg", "webp", "avif")  # the outputs `q` changes
OPAQUE = ("jpg", "pjpg")  # no alpha: transparent areas are laid on `bg`, or white
DEFAULT_QUALITY = 75  # imgix's
WHITE = (255, 255, 255, 255)
CLEAR = (0, 0, 0, 0)  # fit=fill's padding when no colour is given, where alpha can be kept
MAX_DPR = 5.0
CENTRE = (0.5, 0.5)
NO_FOCUS: tuple[float | None, float | None] = (None, None)
# The longest side libvips can hold (VIPS_MAX_COORD), and so the largest size or rect value a
# URL may ask for; larger outputs are clamped by the render's own bound, as imgix clamps. Bounded
# here so that `w` times `dpr` stays a finite number.
MAX_PIXELS = 10_000_000
# A decimal number in ASCII, as imgix reads them: `float` alone also takes other scripts'
# digits, '1_000', 'inf' and 'nan'.
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
# The parameters that ask for a rendition; any other (and `s`, the signature) leaves the
# original as it is.
RENDITION_PARAMS = frozenset(
    {"w", "h", "fit", "crop", "fp-x", "fp-y", "rect", "dpr", "q", "fm", "auto", "bg", "fill-color"}
)


@dataclass(frozen=True)
class Spec:
    """What a rendition URL asks for. `w`/`h` below 1 are fractions of the source's size."""

    w: float | None = None
    h: float | None = None
    fit: str = "clip"
    crop: tuple[str, ...] = ()
    # Fractions of the region (`rect`, else the picture); None: not given, the picture's own
    # focal point counts (`focus`), else the centre. In a variant's spec, None on an axis says
    # that `focus` decides it.
    fp: tuple[float | None, float | None] = (None, None)
    rect: tuple[int, int, int, int] | None = None
    dpr: float = 1.0
    q: int | None = None
    fm: str | None = None
    auto_format: bool = False
    bg: tuple[int, int, int, int] | None = None  # RGBA
    fill_color: tuple[int, int, int, int] | None = None
    # What the picture's entry says of it (its asset's `focalPoint` and `faces`): fractions of
    # the whole picture as displayed, read only for the crops that use them (`uses_focus`).
    focus: tuple[float | None, float | None] = (None, None)
    faces: tuple[Box, ...] = ()

    @property
    def uses_focus(self) -> bool:
        """Whether the picture's focal point or faces may place this spec's crop: a crop that
        keeps part of the picture, by its faces or by a focal point not given on every axis."""
        if self.fit not in ("crop", "min") or self.w is None or self.h is None:
            return False
        return "faces" in self.crop or ("focalpoint" in self.crop and None in self.fp)

    def focused(self, point: tuple[float, float] | None, faces: tuple[Box, ...]) -> Spec:
        """The spec with the picture's focal point and faces, as its entry stores them."""
        return replace(self, focus=point or NO_FOCUS, faces=faces)

    def normalised(self) -> Spec:
        """The same picture asked for with `dpr` folded into pixel sizes."""
        if any(size is not None and size < 1 for size in (self.w, self.h)):
            return self  # fractions of the source: dpr stays a factor of its own
        return replace(
            self,
            w=None if self.w is None else float(round(self.w * self.dpr)),
            h=None if self.h is None else float(round(self.h * self.dpr)),
            dpr=1.0,
        )


def asks_for_rendition(names: Iterable[str]) -> bool:
    return any(name in RENDITION_PARAMS for name in names)


def parse_spec(params: Iterable[tuple[str, str]]) -> Spec:
    """The spec of a query's (name, value) pairs; a repeated parameter's last value counts."""
    given = {name: value for name, value in params if name in RENDITION_PARAMS}
    problems: dict[str, str] = {}
    values: dict[str, object] = {}
    for name, value in given.items():
        try:
            values[_FIELDS.get(name, name)] = _READERS[name](value.strip())
        except ValueError as exc:
            problems[name] = str(exc)
    if problems:
        raise BadRequest("bad rendition parameters", details=problems)
    fp = (values.pop("fp_x", None), values.pop("fp_y", None))
    return Spec(fp=fp, **values)  # type: ignore[arg-type]


def _size(value: str) -> float:
    number = _number(value)
    if not 0 < number <= MAX_PIXELS:
        raise ValueError(
            f"must be a number of pixels above 0 and at most {MAX_PIXELS}, "
            "or a fraction of the source"
        )
    return float(number) if number < 1 else float(round(number))


def _dpr(value: str) -> float:
    number = _number(value)
    if not 1 <= number <= MAX_DPR:
        raise ValueError(f"must be a number from 1 to {MAX_DPR:g}")
    return number


def _fraction(value: str) -> float:
    number = _number(value)
    if not 0 <= number <= 1:
        raise ValueError("must be a number from 0 to 1")
    return number


def _quality(value: str) -> int:
    quality = whole_number(value, max_digits=3)
    if quality is None or not 1 <= quality <= 100:
        raise ValueError("must be a whole number from 1 to 100")
    return quality


def _fit(value: str) -> str:
    if value not in FITS:
        raise ValueError(f"must be one of {', '.join(FITS)}")
    return value


def _crop(value: str) -> tuple[str, ...]:
    modes = tuple(part.strip() for part in value.split(",") if part.strip())
    wrong = [mode for mode in modes if mode not in CROP_MODES]
    if wrong or not modes:
        raise ValueError(f"must be a comma-separated list of {', '.join(CROP_MODES)}")
    return tuple(dict.fromkeys(modes))


def _rect(value: str) -> tuple[int, int, int, int]:
    parts = value.split(",")
    numbers = [_number(part.strip()) for part in parts] if len(parts) == 4 else []
    in_range = all(0 <= number <= MAX_PIXELS for number in numbers)
    if len(numbers) != 4 or not in_range or numbers[2] < 1 or numbers[3] < 1:
        raise ValueError("must be x,y,width,height in pixels of the source")
    x, y, w, h = (round(n) for n in numbers)
    return x, y, w, h


def _format(value: str) -> str:
    if value not in FORMATS:
        raise ValueError(f"must be one of {', '.join(FORMATS)}")
    return value


def _auto(value: str) -> bool:
    # compress, enhance and redeye are imgix's too; medialib leaves the picture as it is.
    return "format" in (part.strip() for part in value.split(","))


def _color(value: str) -> tuple[int, int, int, int]:
    """imgix's colours: RGB, ARGB, RRGGBB or AARRGGBB in hex, `#` optional."""
    digits = value.removeprefix("#")
    if len(digits) not in (3, 4, 6, 8) or any(c not in "0123456789abcdefABCDEF" for c in digits):
        raise ValueError("must be a hex colour: RGB, ARGB, RRGGBB or AARRGGBB")
    if len(digits) in (3, 4):
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i : i + 2], 16) for i in range(0, len(digits), 2)]
    alpha = channels.pop(0) if len(channels) == 4 else 255
    red, green, blue = channels
    return red, green, blue, alpha


def _number(value: str) -> float:
    number = float(value) if _DECIMAL.fullmatch(value) else None
    if number is None or not math.isfinite(number):  # 1e999 reads as infinity
        raise ValueError("must be a number")
    return number


_READERS = {
    "w": _size,
    "h": _size,
    "fit": _fit,
    "crop": _crop,
    "fp-x": _fraction,
    "fp-y": _fraction,
    "rect": _rect,
    "dpr": _dpr,
    "q": _quality,
    "fm": _format,
    "auto": _auto,
    "bg": _color,
    "fill-color": _color,
}
_FIELDS = {"fp-x": "fp_x", "fp-y": "fp_y", "auto": "auto_format", "fill-color": "fill_color"}


# The format each source is rendered to when the URL names none: its own, where medialib can
# write it.
_SOURCE_FORMATS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
}


def output_format(spec: Spec, source_mime: str, accept: str | None) -> str:
    """`fm` when given; with `auto=format`, AVIF or WebP when the Accept header names them (as
    imgix does, `image/*` is not enough); else the source's own format."""
    if spec.fm is not None:
        return spec.fm
    if spec.auto_format and accept:
        accepted = _accepted(accept)
        for mime, fmt in (("image/avif", "avif"), ("image/webp", "webp")):
            if mime in accepted:
                return fmt
        if source_mime == "image/webp":
            return "png"
    return _SOURCE_FORMATS.get(source_mime, "jpg")


def _accepted(accept: str) -> set[str]:
    """The media types an Accept header takes (q above 0)."""
    taken = set()
    for part in accept.lower().split(","):
        mime, *options = (p.strip() for p in part.split(";"))
        zero = any(o.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000") for o in options)
        if mime and not zero:
            taken.add(mime)
    return taken


# A site asks for a few sizes over and over: each request would spend more on naming its
# variant than on finding it.
@functools.lru_cache(maxsize=1024)
def variant_of(spec: Spec, output: str, max_side: int, alpha: bool) -> tuple[Spec, str]:
    """The spec a variant is made from and its name: `spec` with what cannot change the bytes of
    its rendition in `output` taken out (no side beyond `max_side`; `alpha`: whether the source
    may have an alpha channel). Exact: only values that change nothing go, so two specs that
    make different pictures never share a name. What depends on the source's size (a `rect`
    past its edges, a width that its height clamps) is left as asked: the variant's name is
    known before the source is read."""
    made = _colours(_placement(_sizes(spec.normalised(), max_side)), output, alpha)
    quality = spec.q if output in LOSSY and spec.q != DEFAULT_QUALITY else None
    made = replace(made, q=quality, fm=None, auto_format=False)  # the output is named apart
    return made, _digest(made, output)


def _sizes(spec: Spec, max_side: int) -> Spec:
    """The fit that makes the picture, and pixel sizes no larger than the output can be (the
    render clamps the rest as it would have)."""
    w, h = spec.w, spec.h
    if w is None and h is None:  # the source's own size: fit and dpr change nothing
        return replace(spec, fit="clip", dpr=1.0)
    if w is None or h is None:  # one side: the other follows, whatever the fit (but growing)
        spec = replace(spec, fit="max" if spec.fit in ("max", "min") else "clip")
    if spec.dpr != 1.0:  # a fraction of the source with dpr: left as asked
        return spec
    if w is None or h is None or spec.fit in ("clip", "max"):
        # Fitting inside: each side is at most what was asked and at most max_side.
        return replace(spec, w=_at_most(w, max_side), h=_at_most(h, max_side))
    if w >= 1 and h >= 1 and max(w, h) > max_side:
        # The box is the output (crop, min, scale, fill): made smaller whole, its shape kept.
        shrink = max_side / max(w, h)
        return replace(spec, w=float(max(1, round(w * shrink))), h=float(max(1, round(h * shrink))))
    return spec


def _at_most(size: float | None, max_side: int) -> float | None:
    if size is None or size < 1:  # a fraction: of a size not known here
        return size
    return min(size, float(max_side))


def _placement(spec: Spec) -> Spec:
    """Where a crop is placed: only fit=crop and fit=min with both sides keep part of the
    picture. `faces` decides alone when the picture has faces. Else edges named on both sides
    of an axis cancel out; `entropy` counts when no edge is named; the focal point (given, else
    the picture's own) counts on an axis no edge decides, for `focalpoint`, and for `faces`
    on a picture without faces. What places no crop is taken out, the picture's focus with it:
    a variant that does not use it keeps its name when the focus changes."""
    if spec.fit not in ("crop", "min") or spec.w is None or spec.h is None:
        return replace(spec, crop=(), fp=CENTRE, focus=NO_FOCUS, faces=())
    named = set(spec.crop)
    if "faces" in named and spec.faces:
        return replace(spec, crop=("faces",), fp=CENTRE, focus=NO_FOCUS)
    spec = replace(spec, faces=())
    if "entropy" in named and not named & set(EDGES):
        return replace(spec, crop=("entropy",), fp=CENTRE, focus=NO_FOCUS)
    x_edge = _edge(named, "left", "right")
    y_edge = _edge(named, "top", "bottom")
    focal = bool(named & {"focalpoint", "faces"})
    fx, sx = _focus_axis(focal and x_edge is None, spec.fp[0], spec.focus[0])
    fy, sy = _focus_axis(focal and y_edge is None, spec.fp[1], spec.focus[1])
    placed = (fx, fy) != CENTRE or (sx, sy) != NO_FOCUS
    edges = tuple(edge for edge in (y_edge, x_edge) if edge is not None)
    return replace(
        spec, crop=edges + (("focalpoint",) if placed else ()), fp=(fx, fy), focus=(sx, sy)
    )


def _focus_axis(
    decides: bool, asked: float | None, stored: float | None
) -> tuple[float | None, float | None]:
    """One axis of a variant's focal point, as (fp, focus): the one given wins, then the
    picture's own (fp None), then the centre."""
    if not decides:
        return 0.5, None
    if asked is not None:
        return asked, None
    if stored is not None:
        return None, stored
    return 0.5, None


def _edge(named: set[str], low: str, high: str) -> str | None:
    if (low in named) == (high in named):
        return None
    return low if low in named else high


def _colours(spec: Spec, output: str, alpha: bool) -> Spec:
    """`fill-color` pads fit=fill's box; `bg` pads it when `fill-color` does not, and lies under
    transparent pixels where the output has no alpha (JPEG) or `bg` is opaque. A colour the
    output would get anyway (white under a JPEG) is no colour."""
    padded = spec.fit == "fill" and spec.w is not None and spec.h is not None
    default = WHITE if output in OPAQUE else CLEAR
    fill = spec.fill_color if padded else None
    if fill is not None and fill == (spec.bg or default):
        fill = None
    bg = spec.bg
    if bg is not None:
        padding = fill or bg
        transparent = alpha or (padded and padding[3] < 255)
        laid_under = transparent and (output in OPAQUE or bg[3] == 255)
        if not (laid_under or (padded and fill is None)) or (output in OPAQUE and bg == WHITE):
            bg = None
    return replace(spec, fill_color=fill, bg=bg)


def _digest(spec: Spec, output: str) -> str:
    values = asdict(spec) | {"output": output}
    # Fields that came after variants were first stored, named only when they count: every
    # variant that does not use them keeps the name it had.
    for name, unused in (("focus", NO_FOCUS), ("faces", ())):
        if values[name] == unused:
            del values[name]
    text = repr(sorted(values.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:32]
