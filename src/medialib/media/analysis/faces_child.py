"""The face detector's process: `python -m medialib.media.analysis.faces_child FD MEMORY`.

OpenCV is loaded here, once, and never in the worker: it maps some 60 MB the worker has no use
for, and its native code runs on pixels that came from a stranger's file. The process lives as
long as the worker that started it (`faces.py`), under a hard limit of address space set once
OpenCV is loaded, and answers requests on the Unix socket FD (SOCK_SEQPACKET, one message each
way): a grey picture (`width`, `height` as two little-endian 16-bit numbers, then the pixels, a
byte each, row by row) is answered with its faces as JSON, `[[x, y, width, height], ...]` in
fractions of the picture. JSON, not pickles: the worker must not run code because of what this
process says. It ends when the socket does (the worker is gone).

The detector is the frontal-face Haar cascade that ships inside the OpenCV wheel (nothing is
downloaded), tuned by bench/faces.py: the cheapest settings that keep the recall on faces of at
least a tenth of the picture's short side.
"""

from __future__ import annotations

import json
import resource
import socket
import struct
import sys
from dataclasses import dataclass

import cv2
import numpy as np
from cv2.data import haarcascades

HEADER = struct.Struct("<HH")
MAX_SIDE = 1024  # the worker sends 160 px; anything larger is not one of its requests
MAX_REQUEST = HEADER.size + MAX_SIDE * MAX_SIDE
READY = b"ready"


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


def answer(classifier: cv2.CascadeClassifier, request: bytes) -> list[Face]:
    if len(request) < HEADER.size:
        return []
    width, height = HEADER.unpack_from(request)
    pixels = request[HEADER.size :]
    if not width or not height or len(pixels) != width * height:
        return []
    grey = np.frombuffer(pixels, dtype=np.uint8).reshape(height, width)
    return detect(classifier, grey)


def main(fd: int, memory: int) -> None:
    cv2.setNumThreads(1)  # one request at a time, one core: the worker runs one process a core
    classifier = load()
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    requests = socket.socket(fileno=fd)
    requests.send(READY)
    while True:
        try:
            request = requests.recv(MAX_REQUEST)
        except OSError:
            return
        if not request:
            return  # the socket's other end is closed: the worker is gone
        faces = [[round(value, 5) for value in face] for face in answer(classifier, request)]
        requests.send(json.dumps(faces).encode())


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
