"""Faces in a picture, found by OpenCV's Haar cascade in a process of its own.

The worker never loads OpenCV: a detector process (`faces_child.py`) is started at the first
picture and kept, as many as the settings say (one per core), each under a hard limit of address
space. A picture goes to it as a small grey copy (160 px on its long side, 25 KB) over a Unix
socket and comes back as boxes. A process that dies, hangs past the deadline or answers nonsense
is stopped and replaced at the next picture; the picture it was working on gets no faces (its
focal point falls back to saliency), and the failure is logged. After a process that failed
before it answered a single picture (it cannot start, or a memory limit too small for OpenCV
kills it at once) none is started for a minute, so a broken detector costs a log line a minute
rather than a start per picture.

Thread-safe: imports call it from threads (asyncio.to_thread); each call takes a process of its
own and waits for one when all are busy.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import queue
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

from medialib.media.analysis.records import Box

log = logging.getLogger("medialib.analysis")

DETECTOR = "medialib.media.analysis.faces_child"
SIDE = 160  # the long side of the grey copy the cascade looks at (bench/faces.py)
HEADER = struct.Struct("<HH")  # width, height: faces_child.HEADER
READY = b"ready"
MAX_ANSWER = 64 * 1024
MAX_FACES = 64
START_TIMEOUT = 30.0  # seconds for a process to load OpenCV and its cascade
RETRY_START_AFTER = 60.0  # seconds before starting again after a process that never answered


@dataclass(frozen=True)
class FaceLimits:
    memory: int  # bytes of address space a detector process may map
    timeout: float  # seconds for one picture, once the process is running
    processes: int = 0  # detector processes at most; 0: one per core


class DetectorFailed(Exception):
    pass


def grey_copy(picture: Image.Image, side: int = SIDE) -> Image.Image:
    """The grey copy the detector looks at: its long side `side`, never enlarged. Halved by
    averaging first (the 320 px picture analyze.py hands over: a third of the CPU of a resize)."""
    if picture.mode not in ("RGB", "L"):
        picture = picture.convert("RGB")  # what analyze.py hands over; others are converted
    factor = max(picture.size) // side
    grey = (picture.reduce(factor) if factor > 1 else picture).convert("L")
    scale = side / max(grey.size)
    if scale < 1:
        size = (max(1, round(grey.width * scale)), max(1, round(grey.height * scale)))
        grey = grey.resize(size, Image.Resampling.BILINEAR)
    return grey


def no_faces(picture: Image.Image) -> tuple[Box, ...]:
    """The detector when detection is off."""
    return ()


class FaceProcesses:
    """Faces found by detector processes, started when first needed."""

    def __init__(self, limits: FaceLimits) -> None:
        count = limits.processes or os.cpu_count() or 1
        self._idle: queue.LifoQueue[_Detector] = queue.LifoQueue()
        self._all = [_Detector(limits) for _ in range(count)]
        for detector in self._all:
            self._idle.put(detector)

    def __call__(self, picture: Image.Image) -> tuple[Box, ...]:
        try:
            grey = grey_copy(picture)
        except ValueError as exc:  # a mode Pillow cannot turn grey ("La")
            log.warning("face detection skipped, the picture gets no faces: %s", exc)
            return ()
        detector = self._idle.get()  # the most recently used first: its process is running
        try:
            return detector.detect(grey)
        finally:
            self._idle.put(detector)

    def pids(self) -> list[int]:
        """The running detector processes, for measurements and tests."""
        return [pid for detector in self._all if (pid := detector.pid()) is not None]

    def close(self) -> None:
        for detector in self._all:
            detector.stop()


@functools.cache
def face_detector(enabled: bool, limits: FaceLimits) -> Callable[[Image.Image], tuple[Box, ...]]:
    """This process's detector for these settings: one pool of processes, however often asked."""
    return FaceProcesses(limits) if enabled else no_faces


class _Detector:
    """One detector process, used by one thread at a time."""

    def __init__(self, limits: FaceLimits) -> None:
        self._limits = limits
        self._process: subprocess.Popen[bytes] | None = None
        self._socket: socket.socket | None = None
        self._answered = 0  # pictures the running process answered
        self._start_again_at = 0.0

    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def detect(self, grey: Image.Image) -> tuple[Box, ...]:
        if not self._running() and time.monotonic() < self._start_again_at:
            return ()  # broken a moment ago: said once, not once a picture
        try:
            if not self._running():
                self._start()
            faces = self._ask(grey)
        except DetectorFailed as failed:
            self._failed(failed)
            return ()
        self._answered += 1
        return faces

    def _failed(self, failed: DetectorFailed) -> None:
        self.stop()
        if self._answered:
            log.warning("face detection failed, the picture gets no faces: %s", failed)
        else:  # a process that never answered will not answer the next picture either
            self._start_again_at = time.monotonic() + RETRY_START_AFTER
            log.warning("face detection failed, no faces for %gs: %s", RETRY_START_AFTER, failed)

    def _running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _start(self) -> None:
        self.stop()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with theirs:
            self._process = subprocess.Popen(  # noqa: S603 (our own module)
                [sys.executable, "-m", DETECTOR, str(theirs.fileno()), str(self._limits.memory)],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
            )
        self._socket = ours
        self._answered = 0
        ours.settimeout(START_TIMEOUT)
        try:
            ready = ours.recv(len(READY))
        except OSError as exc:
            raise DetectorFailed(f"the detector process did not start: {exc}") from exc
        if ready != READY:
            raise DetectorFailed("the detector process did not start (it ended)")

    def _ask(self, grey: Image.Image) -> tuple[Box, ...]:
        assert self._socket is not None
        self._socket.settimeout(self._limits.timeout)
        try:
            self._socket.send(HEADER.pack(grey.width, grey.height) + grey.tobytes())
            answer = self._socket.recv(MAX_ANSWER)
        except TimeoutError as exc:
            raise DetectorFailed(f"no answer within {self._limits.timeout:g}s") from exc
        except OSError as exc:
            raise DetectorFailed(f"the detector process is gone: {exc}") from exc
        if not answer:
            raise DetectorFailed("the detector process ended")
        return boxes(answer)

    def stop(self) -> None:
        if self._socket is not None:
            self._socket.close()  # the process ends when its socket does
            self._socket = None
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None


def boxes(answer: bytes) -> tuple[Box, ...]:
    """The faces a detector process answered, checked: it is a process we do not trust more
    than the pixels it read."""
    try:
        faces = json.loads(answer)
    except ValueError as exc:
        raise DetectorFailed("the detector process answered something else than JSON") from exc
    if not isinstance(faces, list) or len(faces) > MAX_FACES:
        raise DetectorFailed("the detector process answered something else than faces")
    return tuple(_box(face) for face in faces)


def _box(face: object) -> Box:
    if not (isinstance(face, list) and len(face) == 4 and all(_is_number(value) for value in face)):
        raise DetectorFailed("the detector process answered something else than a box")
    x, y, width, height = (min(1.0, max(0.0, float(value))) for value in face)
    return Box(x, y, min(width, 1.0 - x), min(height, 1.0 - y))


def _is_number(value: object) -> bool:
    return isinstance(value, float | int) and not isinstance(value, bool) and math.isfinite(value)
