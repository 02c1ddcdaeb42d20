"""The whole analysis of a picture file in this process: decoded once into a small copy
(pixels.py), every measure read from it (measures.py), the faces found by `detect_faces`.

For tests, benchmarks and tools: medialib's own processes never measure in-process, they send
the copy to an analysis process (processes.py) and so never load numpy or OpenCV.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PIL import Image

from medialib.media.analysis.copies import ANALYSIS_SIDE, FACES_SIDE
from medialib.media.analysis.measures import analyze_picture
from medialib.media.analysis.pixels import MAX_PIXELS, small_copy
from medialib.media.analysis.records import Analysis, Box

# The faces in a picture (the upright small copy), as fractions of it.
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
