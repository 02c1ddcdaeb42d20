"""The analysis process with the face detector in it:
`python -m medialib.media.analysis.faces_child FD MEMORY` (what it answers: child.py).

OpenCV is loaded here, once, and never in the worker: it maps some 60 MB the worker has no use
for, and its native code runs on pixels that came from a stranger's file. The process is
started by the worker (processes.py) when face detection is on; it loads OpenCV and the cascade
and then answers as child.py does, the faces found in a grey copy of each picture (160 px on its
long side) given to the rest of the analysis.

The detector is the frontal-face Haar cascade that ships inside the OpenCV wheel (nothing is
downloaded), tuned by bench/faces.py: the cheapest settings that keep the recall on faces of at
least a tenth of the picture's short side.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import cv2
import numpy as np
from cv2.data import haarcascades
from PIL import Image

from medialib.media.analysis import child
from medialib.media.analysis.copies import grey_copy
from medialib.media.analysis.records import Box


@dataclass(frozen=True)
class Tuning:
    """How the cascade looks: chosen by measurement (bench/faces.py --sweep)."""

    cascade: str = "haarcascade_frontalface_alt2.xml"  # finds more than _default, as precisely
    scale_factor: float = 1.1  # the step between the sizes of face looked for
    min_neighbors: int = 2  # overlapping hits a face needs: fewer finds more, and more textures
    min_face: float = 0.09  # the smallest face looked for, as a fraction of the short side
    max_face: float = 0.95  # and the largest


TUNING = Tuning()
Face = tuple[float, float, float, float]  # x, y, width, height as fractions


def load(tuning: Tuning = TUNING) -> cv2.CascadeClassifier:
    classifier = cv2.CascadeClassifier(haarcascades + tuning.cascade)
    if classifier.empty():
        raise RuntimeError(f"the cascade {tuning.cascade} could not be loaded")
    return classifier


def detect(
    classifier: cv2.CascadeClassifier, grey: np.ndarray, tuning: Tuning = TUNING
) -> list[Face]:
    """The faces in a grey picture, merged and with the implausible ones dropped."""
    height, width = grey.shape
    short = min(width, height)
    smallest = max(20, round(short * tuning.min_face))  # the cascade's window is 24 px
    largest = max(smallest, round(short * tuning.max_face))
    if short < smallest:
        return []
    found = classifier.detectMultiScale(
        cv2.equalizeHist(grey),
        scaleFactor=tuning.scale_factor,
        minNeighbors=tuning.min_neighbors,
        minSize=(smallest, smallest),
        maxSize=(largest, largest),
    )
    boxes = [(int(x), int(y), int(w), int(h)) for x, y, w, h in found]
    return [
        (x / width, y / height, w / width, h / height)
        for x, y, w, h in merged(boxes)
        if w >= smallest and x >= 0 and y >= 0 and x + w <= width and y + h <= height
    ]


def merged(boxes: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """One box per face: a box whose centre lies inside a larger one is the same face seen at
    another scale (the cascade's own grouping only merges boxes of similar size)."""
    kept: list[tuple[int, int, int, int]] = []
    for box in sorted(boxes, key=lambda box: box[2] * box[3], reverse=True):
        x, y, w, h = box
        centre_x, centre_y = x + w / 2, y + h / 2
        if not any(
            kx <= centre_x <= kx + kw and ky <= centre_y <= ky + kh for kx, ky, kw, kh in kept
        ):
            kept.append(box)
    return kept


def detector(classifier: cv2.CascadeClassifier) -> child.Faces:
    """The faces in an upright RGB copy, looked for in its grey copy."""

    def faces(picture: Image.Image) -> tuple[Box, ...]:
        grey = np.asarray(grey_copy(picture), dtype=np.uint8)
        return tuple(Box(*face) for face in detect(classifier, grey))

    return faces


def main(fd: int, memory: int) -> None:
    cv2.setNumThreads(1)  # one request at a time, one core: the worker runs one process a core
    child.serve(fd, memory, detector(load()))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
