"""The measures of a picture's small upright copy (pixels.py): what an analysis process computes
(child.py), with numpy. The worker and the server never load this module.

The ThumbHash is read from a 32-pixel copy (the reference takes up to 100: its few DCT terms
come out the same from 32), and pHash, colour and saliency share one 32x32 copy: they need no
more, and squashing the picture square changes no fraction of it.
"""

from __future__ import annotations

from PIL import Image

from medialib.media.analysis import thumbhash
from medialib.media.analysis.colour import dominant_colour
from medialib.media.analysis.copies import as_rgb, shrink
from medialib.media.analysis.phash import phash
from medialib.media.analysis.records import Analysis, Box, FocalPoint, FocusSource
from medialib.media.analysis.saliency import salient_point

PLACEHOLDER_SIDE = 32
TINY = (32, 32)


def analyze_picture(picture: Image.Image, faces: tuple[Box, ...] = ()) -> Analysis:
    """The analysis of an upright copy, the faces found in it given."""
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
