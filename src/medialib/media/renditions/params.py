"""imgix's URL parameters, read into a `Spec`: one normalised value per parameter, so that two
URLs asking for the same picture share one stored variant.

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
from medialib.parsing import whole_number

FITS = ("clip", "crop", "max", "min", "scale", "fill")
EDGES = ("top", "bottom", "left", "right")
# faces and edges need detectors medialib does not have: imgix falls back to the other modes
# given (or the centre) when it finds no face, and so does medialib, always.
CROP_MODES = (*EDGES, "focalpoint", "center", "entropy", "faces", "edges")
FORMATS = ("jpg", "pjpg", "png", "webp", "avif", "gif")
MAX_DPR = 5.0
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
    fp: tuple[float, float] = (0.5, 0.5)
    rect: tuple[int, int, int, int] | None = None
    dpr: float = 1.0
    q: int | None = None
    fm: str | None = None
    auto_format: bool = False
    bg: tuple[int, int, int, int] | None = None  # RGBA
    fill_color: tuple[int, int, int, int] | None = None

    def digest(self, output: str) -> str:
        """Names the variant: every value that changes its bytes, and the output format (which
        `auto=format` leaves to the request's Accept header). `w=400&dpr=2` is `w=800`."""
        return _digest(self, output)

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
    fp = (values.pop("fp_x", 0.5), values.pop("fp_y", 0.5))
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
def _digest(spec: Spec, output: str) -> str:
    values = asdict(spec.normalised()) | {"output": output, "auto_format": None}
    text = repr(sorted(values.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:32]
