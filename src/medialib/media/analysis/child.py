"""An analysis process: `python -m medialib.media.analysis.child FD MEMORY`, or the same loop
with the face detector in it (`faces_child.py`).

numpy is loaded here, and OpenCV in faces_child, never in the worker: the worker decodes the
picture into its small copy and sends it (processes.py). The process lives as long as the
worker that started it, under a hard limit of address space set once what it needs is loaded,
and answers requests on the Unix socket FD (SOCK_SEQPACKET, one message each way). A request is
an upright RGB picture: `width`, `height` as two little-endian 16-bit numbers, then the pixels,
three bytes each, row by row. The answer is JSON:

    {"phash": "<16 hex digits>", "placeholder": "<a ThumbHash, base64>", "color": "#rrggbb",
     "focalPoint": [x, y, "faces" or "saliency"], "faces": [[x, y, width, height], ...]}

positions and sizes in fractions of the picture, with "facesFailed": why, when the detector
failed on this picture (it then has no faces, and the rest of its analysis), or {"error": why}
for a request that is not a picture. JSON, not pickles: the worker must not run code because of
what this process says. The process ends when the socket does (the worker is gone).
"""

from __future__ import annotations

import json
import resource
import socket
import struct
import sys
from collections.abc import Callable
from typing import Any

from PIL import Image

from medialib.media.analysis.measures import analyze_picture
from medialib.media.analysis.records import Analysis, Box

HEADER = struct.Struct("<HH")
# The worker sends 160 px at most; a message of 256 x 256 RGB still fits a Unix socket's
# default buffer (212 KB), which one SOCK_SEQPACKET message may not outgrow.
MAX_SIDE = 256
MAX_REQUEST = HEADER.size + MAX_SIDE * MAX_SIDE * 3
READY = b"ready"
MAX_REASON = 300  # characters of an error said back

# The face detector: the faces in an upright RGB copy, as fractions of it.
Faces = Callable[[Image.Image], tuple[Box, ...]]


def answer(request: bytes, detect: Faces | None) -> dict[str, Any]:
    """The analysis of one request, as the JSON object sent back."""
    picture = _picture(request)
    if picture is None:
        return {"error": "the request is not a picture"}
    faces: tuple[Box, ...] = ()
    failed = None
    if detect is not None:
        try:
            faces = detect(picture)
        except Exception as exc:  # OpenCV out of memory, say: no faces, the rest still counts
            failed = f"{type(exc).__name__}: {exc}"[:MAX_REASON]
    fields = as_json(analyze_picture(picture, faces))
    if failed is not None:
        fields["facesFailed"] = failed
    return fields


def as_json(analysis: Analysis) -> dict[str, Any]:
    focus = analysis.focal_point
    return {
        "phash": f"{analysis.phash:016x}",
        "placeholder": analysis.placeholder,
        "color": analysis.color,
        "focalPoint": [round(focus.x, 5), round(focus.y, 5), focus.source.value],
        "faces": [
            [round(value, 5) for value in (face.x, face.y, face.width, face.height)]
            for face in analysis.faces
        ],
    }


def _picture(request: bytes) -> Image.Image | None:
    if len(request) < HEADER.size:
        return None
    width, height = HEADER.unpack_from(request)
    pixels = request[HEADER.size :]
    if not width or not height or width > MAX_SIDE or height > MAX_SIDE:
        return None
    if len(pixels) != width * height * 3:
        return None
    return Image.frombytes("RGB", (width, height), pixels)


def serve(fd: int, memory: int, detect: Faces | None) -> None:
    """Answer the requests on the socket FD until it closes, under `memory` bytes of address
    space from now on; a limit below what the process maps already ends it before it is ready
    (the worker then starts none for a while)."""
    mapped = _address_space()
    if mapped >= memory:
        sys.exit(f"medialib: the analysis process maps {mapped >> 20} MB, over its limit")
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    requests = socket.socket(fileno=fd)
    buffer = bytearray(MAX_REQUEST)  # one for every request
    requests.send(READY)
    while True:
        try:
            size = requests.recv_into(buffer)
        except OSError:
            return
        if not size:
            return  # the socket's other end is closed: the worker is gone
        try:
            fields = answer(bytes(buffer[:size]), detect)
        except Exception as exc:  # MemoryError under the limit, say: this picture only
            fields = {"error": f"{type(exc).__name__}: {exc}"[:MAX_REASON]}
        requests.send(json.dumps(fields).encode())


def _address_space() -> int:
    """Bytes of address space this process maps now (/proc/self/statm counts pages)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]), None)
