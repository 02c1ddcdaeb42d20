"""The analysis of pictures in processes of its own: the worker decodes, they measure.

The worker (and the server) load neither numpy nor OpenCV: the measures (the perceptual hash,
the ThumbHash, the dominant colour, the focal point, and the faces when detection is on) are
taken by analysis processes (`child.py`; `faces_child.py` when faces are looked for), started at
the first picture and kept, as many as the settings say (one per core), each under a hard limit
of address space. The worker decodes the picture into its small upright RGB copy (pixels.py: 160
px on its long side with faces, 64 without; 75 KB at most) and sends it over a Unix socket; the
analysis comes back as JSON and is checked before it is believed.

A process that dies, hangs past the deadline or answers nonsense is stopped and replaced at the
next picture; the picture it was working on is not analysed (AnalysisFailed: an import goes on
without the fields, and `medialib analyze` gives them later), and the failure is logged. When
the detector fails on a picture inside a process that lives on, that picture gets the rest of
its analysis without faces. After a process that failed before it answered a single picture (it
cannot start, or a memory limit too small for OpenCV kills it at once) none is started for a
minute, so a broken setup costs a log line a minute rather than a start per picture.

Thread-safe: imports call it from threads (asyncio.to_thread); each call takes a process of its
own and waits for one when all are busy.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import logging
import math
import os
import queue
import re
import socket
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from PIL import Image

from medialib.errors import ItemError
from medialib.media.analysis.copies import ANALYSIS_SIDE, FACES_SIDE, as_rgb, shrink
from medialib.media.analysis.pixels import MAX_PIXELS, small_copy
from medialib.media.analysis.records import Analysis, Box, FocalPoint, FocusSource

log = logging.getLogger("medialib.analysis")

MEASURES = "medialib.media.analysis.child"
WITH_FACES = "medialib.media.analysis.faces_child"
HEADER = struct.Struct("<HH")  # width, height: child.HEADER
READY = b"ready"
MAX_ANSWER = 64 * 1024
MAX_FACES = 64
MAX_PLACEHOLDER = 64  # bytes of a ThumbHash at most (the reference's are 25 or so)
START_TIMEOUT = 30.0  # seconds for a process to load numpy (and OpenCV and its cascade)
RETRY_START_AFTER = 60.0  # seconds before starting again after a process that never answered
_HASH = re.compile(r"[0-9a-f]{16}")
_COLOUR = re.compile(r"#[0-9a-f]{6}")
_SOURCES = {
    FocusSource.FACES.value: FocusSource.FACES,
    FocusSource.SALIENCY.value: FocusSource.SALIENCY,
}


@dataclass(frozen=True)
class ProcessLimits:
    memory: int  # bytes of address space an analysis process may map
    timeout: float  # seconds for one picture, once the process is running
    processes: int = 0  # analysis processes at most; 0: one per core


class AnalysisFailed(ItemError):
    """The analysis process failed on this picture: it is not analysed."""

    def __init__(self, message: str) -> None:
        super().__init__("analysis_failed", message)


class PictureRefused(AnalysisFailed):
    """The analysis process could not analyse this picture, and lives on."""


class Analyzer(Protocol):
    """The analysis of a picture file (ItemError when its pixels cannot be read, are more than
    `max_pixels`, or the analysis failed)."""

    def __call__(self, path: Path, mime: str, *, max_pixels: int = MAX_PIXELS) -> Analysis: ...


class AnalysisProcesses:
    """Pictures analysed by analysis processes, started when first needed; `faces`: they look
    for faces too (and load OpenCV for it)."""

    def __init__(self, limits: ProcessLimits, *, faces: bool) -> None:
        count = limits.processes or os.cpu_count() or 1
        self.faces = faces
        module = WITH_FACES if faces else MEASURES
        self._idle: queue.LifoQueue[_Process] = queue.LifoQueue()
        self._all = [_Process(module, limits) for _ in range(count)]
        for process in self._all:
            self._idle.put(process)

    def __call__(self, path: Path, mime: str, *, max_pixels: int = MAX_PIXELS) -> Analysis:
        side = FACES_SIDE if self.faces else ANALYSIS_SIDE
        return self.analyze(small_copy(path, mime, side, max_pixels=max_pixels))

    def analyze(self, picture: Image.Image) -> Analysis:
        """The analysis of a decoded upright picture, made smaller first if it is larger than
        the copy the worker decodes (halved by averaging, as the face detector's grey copy is)."""
        side = FACES_SIDE if self.faces else ANALYSIS_SIDE
        try:
            picture = as_rgb(picture)
        except ValueError as exc:  # a mode Pillow cannot turn into RGB ("La")
            raise ItemError("invalid_image", f"the pixels cannot be read: {exc}") from exc
        factor = max(picture.size) // side
        picture = shrink(picture.reduce(factor) if factor > 1 else picture, side)
        process = self._idle.get()  # the most recently used first: it is running
        try:
            return process.analyze(picture)
        finally:
            self._idle.put(process)

    def pids(self) -> list[int]:
        """The running analysis processes, for measurements and tests."""
        return [pid for process in self._all if (pid := process.pid()) is not None]

    def close(self) -> None:
        for process in self._all:
            process.stop()


@functools.cache
def analysis_processes(limits: ProcessLimits, *, faces: bool) -> AnalysisProcesses:
    """This process's analysis processes for these settings: one pool, however often asked."""
    return AnalysisProcesses(limits, faces=faces)


class _Process:
    """One analysis process, used by one thread at a time."""

    def __init__(self, module: str, limits: ProcessLimits) -> None:
        self._module = module
        self._limits = limits
        self._process: subprocess.Popen[bytes] | None = None
        self._socket: socket.socket | None = None
        self._answered = 0  # pictures the running process answered
        self._start_again_at = 0.0

    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def analyze(self, picture: Image.Image) -> Analysis:
        if not self._running() and time.monotonic() < self._start_again_at:
            # broken a moment ago: said once, not once a picture
            raise AnalysisFailed(f"no analysis process for {RETRY_START_AFTER:g}s after a failure")
        try:
            if not self._running():
                self._start()
            answer = self._ask(picture)
            self._answered += 1
            return answered(answer)
        except PictureRefused as refused:  # this picture only: the process stays
            log.warning("the analysis failed, the picture is not analysed: %s", refused.message)
            raise
        except AnalysisFailed as failed:  # gone, hung, or nonsense: no longer trusted
            self._failed(failed)
            raise

    def _failed(self, failed: AnalysisFailed) -> None:
        self.stop()
        if self._answered:
            log.warning("the analysis failed, the picture is not analysed: %s", failed.message)
        else:  # a process that never answered will not answer the next picture either
            self._start_again_at = time.monotonic() + RETRY_START_AFTER
            log.warning(
                "the analysis failed, no picture is analysed for %gs: %s",
                RETRY_START_AFTER,
                failed.message,
            )

    def _running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _start(self) -> None:
        self.stop()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with theirs:
            self._process = subprocess.Popen(  # noqa: S603 (our own module)
                [
                    sys.executable,
                    "-m",
                    self._module,
                    str(theirs.fileno()),
                    str(self._limits.memory),
                ],
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
            raise AnalysisFailed(f"the analysis process did not start: {exc}") from exc
        if ready != READY:
            raise AnalysisFailed("the analysis process did not start (it ended)")

    def _ask(self, picture: Image.Image) -> bytes:
        assert self._socket is not None
        self._socket.settimeout(self._limits.timeout)
        try:
            self._socket.send(HEADER.pack(picture.width, picture.height) + picture.tobytes())
            answer = self._socket.recv(MAX_ANSWER)
        except TimeoutError as exc:
            raise AnalysisFailed(f"no answer within {self._limits.timeout:g}s") from exc
        except OSError as exc:
            raise AnalysisFailed(f"the analysis process is gone: {exc}") from exc
        if not answer:
            raise AnalysisFailed("the analysis process ended")
        return answer

    def stop(self) -> None:
        if self._socket is not None:
            self._socket.close()  # the process ends when its socket does
            self._socket = None
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None


# --- What an analysis process answered, checked: it is a process we do not trust more than the
# pixels it read ---------------------------------------------------------------------------------


def answered(answer: bytes) -> Analysis:
    """The analysis in an answer; PictureRefused when the process could not analyse the
    picture, AnalysisFailed for anything else than an analysis."""
    try:
        fields = json.loads(answer)
    except (ValueError, RecursionError) as exc:
        raise AnalysisFailed("the analysis process answered something else than JSON") from exc
    if not isinstance(fields, dict):
        raise AnalysisFailed("the analysis process answered something else than an analysis")
    if "error" in fields:
        raise PictureRefused(f"the analysis process could not analyse it: {_said(fields['error'])}")
    phash, placeholder, colour = fields.get("phash"), fields.get("placeholder"), fields.get("color")
    if not (isinstance(phash, str) and _HASH.fullmatch(phash)):
        raise AnalysisFailed("the analysis process answered something else than a hash")
    if not (isinstance(colour, str) and _COLOUR.fullmatch(colour)):
        raise AnalysisFailed("the analysis process answered something else than a colour")
    faces = boxes(fields.get("faces"))
    if "facesFailed" in fields:  # the rest of the analysis stands; the picture has no faces
        log.warning(
            "face detection failed, the picture gets no faces: %s", _said(fields["facesFailed"])
        )
    return Analysis(
        phash=int(phash, 16),
        placeholder=_placeholder(placeholder),
        color=colour,
        focal_point=_focal_point(fields.get("focalPoint")),
        faces=faces,
    )


def _said(reason: object) -> str:
    """What the process said was wrong, as one bounded line for a log."""
    text = reason if isinstance(reason, str) else repr(reason)
    return "".join(ch if ch.isprintable() else " " for ch in text[:300])


def boxes(faces: Any) -> tuple[Box, ...]:
    if not isinstance(faces, list) or len(faces) > MAX_FACES:
        raise AnalysisFailed("the analysis process answered something else than faces")
    return tuple(_box(face) for face in faces)


def _box(face: object) -> Box:
    if not (isinstance(face, list) and len(face) == 4 and all(_is_number(value) for value in face)):
        raise AnalysisFailed("the analysis process answered something else than a box")
    x, y, width, height = (_fraction(value) for value in face)
    return Box(x, y, min(width, 1.0 - x), min(height, 1.0 - y))


def _placeholder(value: object) -> str:
    if isinstance(value, str) and len(value) <= 4 * MAX_PLACEHOLDER // 3 + 4:
        try:
            if 5 <= len(base64.b64decode(value, validate=True)) <= MAX_PLACEHOLDER:
                return value
        except (binascii.Error, ValueError):
            pass
    raise AnalysisFailed("the analysis process answered something else than a placeholder")


def _focal_point(value: object) -> FocalPoint:
    if (
        isinstance(value, list)
        and len(value) == 3
        and _is_number(value[0])
        and _is_number(value[1])
        and isinstance(value[2], str)
        and value[2] in _SOURCES
    ):
        return FocalPoint(_fraction(value[0]), _fraction(value[1]), _SOURCES[value[2]])
    raise AnalysisFailed("the analysis process answered something else than a focal point")


def _fraction(value: Any) -> float:
    return min(1.0, max(0.0, float(value)))


def _is_number(value: object) -> bool:
    return isinstance(value, float | int) and not isinstance(value, bool) and math.isfinite(value)
