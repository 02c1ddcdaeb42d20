"""The analysis of one picture: decoded once into a small copy, every measure read from it.

The copy is 64 pixels on the long side, or the face detector's own side (faces.SIDE, 160) when
it will look at it: a JPEG is decoded no larger than that (DCT scaling). Not
less than 64: a JPEG decoded at 1/8 is 8x8 block means, which alias fine textures, and a copy
of 32 to 48 pixels made that way put a 75 % resize of a brick wall 16 to 22 bits from its
original (bench/near_duplicates.py); from 64, pixels a filter has smoothed reach the hash. The
ThumbHash is read from a 32-pixel copy (the reference takes up to 100: its few DCT terms come
out the same from 32), and pHash, colour and saliency share one 32x32 copy: they need no more,
and squashing the picture square changes no fraction of it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PIL import Image

from medialib.media.analysis import faces, thumbhash
from medialib.media.analysis.colour import dominant_colour
from medialib.media.analysis.phash import phash
from medialib.media.analysis.pixels import MAX_PIXELS, as_rgb, shrink, small_copy
from medialib.media.analysis.records import Analysis, Box, FocalPoint, FocusSource
from medialib.media.analysis.saliency import salient_point

ANALYSIS_SIDE = 64
FACES_SIDE = faces.SIDE  # the detector's copy: decoded no larger than it looks at
PLACEHOLDER_SIDE = 32
TINY = (32, 32)


# The faces in a picture (the upright small copy), as fractions of it (faces.py).
FaceDetector = Callable[[Image.Image], tuple[Box, ...]]


def analyze_image(
    path: Path, mime: str, detect_faces: FaceDetector | None, *, max_pixels: int = MAX_PIXELS
) -> Analysis:
    """Everything the analysis stores of one picture (ItemError when its pixels cannot be
    read or are more than `max_pixels`: pass the project's limit; an SVG is not analysed:
    callers skip it)."""
    side = FACES_SIDE if detect_faces else ANALYSIS_SIDE
    picture = small_copy(path, mime, side, max_pixels=max_pixels)
    faces = detect_faces(picture) if detect_faces else ()
    return analyze_picture(picture, faces)


def analyze_picture(picture: Image.Image, faces: tuple[Box, ...] = ()) -> Analysis:
    """The analysis of an upright copy (a video's poster frame comes this way)."""
    picture = as_rgb(picture)
    placeholder = shrink(picture, PLACEHOLDER_SIDE)
    tiny = picture.resize(TINY, Image.Resampling.BOX)
    return Analysis(
        phash=phash(tiny),
        placeholder=thumbhash.encode(placeholder),
        color=dominant_colour(tiny),
        focal_point=focal_point_from_faces(faces) if faces else salient_point(tiny),
        faces=faces,
    )


def focal_point_from_faces(faces: tuple[Box, ...]) -> FocalPoint:
    """The centre of the faces, each weighted by its area: a group photo's focus is between
    its people, nearer the larger (closer) faces."""
    if not faces:
        raise ValueError("no faces to focus on")
    weights = [max(face.width * face.height, 1e-9) for face in faces]
    total = sum(weights)
    x = sum(w * (face.x + face.width / 2) for w, face in zip(weights, faces, strict=True))
    y = sum(w * (face.y + face.height / 2) for w, face in zip(weights, faces, strict=True))
    return FocalPoint(_fraction(x / total), _fraction(y / total), FocusSource.FACES)


def _fraction(value: float) -> float:
    return min(1.0, max(0.0, value))
