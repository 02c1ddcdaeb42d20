"""What a video is (container, duration, display size, codecs) and its poster frame, learnt by
FFmpeg (through PyAV) in a process of its own: `video_child.py` runs under hard limits of memory
and time, so a hostile file costs at most one killed process and a failed item.

This process never loads FFmpeg: a fork server (`video_forks.py`, started at the first video)
has it loaded and forks one child per video, which starts in a millisecond where a fresh Python
would take 150; at most one child per core runs at once.
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medialib.errors import ItemError

FORK_SERVER = "medialib.media.probe.video_forks"
MAX_ANSWER = 64 * 1024
FORK_SERVER_START = 30.0  # seconds for a fork server to load FFmpeg and fork
# Videos probed at once in this process: decoding a frame is CPU work, one core each.
_SLOTS = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))


@dataclass(frozen=True)
class VideoLimits:
    max_pixels: int
    max_seconds: float
    timeout: float  # seconds for probing and the poster together
    memory: int  # bytes of address space the prober may map


@dataclass(frozen=True)
class Poster:
    path: Path  # a JPEG file
    width: int
    height: int


@dataclass(frozen=True)
class VideoInfo:
    duration: float | None
    width: int | None  # as displayed: non-square pixels stretched, rotation applied
    height: int | None
    video_codec: str | None
    audio_codec: str | None
    poster: Poster | None
    no_poster: str | None  # why there is no poster, when there is none


def probe_video(path: Path, poster_path: Path, limits: VideoLimits) -> VideoInfo:
    """Probe the video at `path` and write its poster to `poster_path`; raises ItemError when the
    file is not a video medialib takes. Blocking: call it from a thread."""
    try:
        with _SLOTS:
            lines, ended = _run_child(path, poster_path, limits)
        info = _read(lines, ended, poster_path, limits)
    except BaseException:
        poster_path.unlink(missing_ok=True)
        raise
    if info.poster is None:
        poster_path.unlink(missing_ok=True)  # a part the prober was stopped while writing
    return info


def _read(lines: dict[str, Any], ended: str, poster_path: Path, limits: VideoLimits) -> VideoInfo:
    probe = lines.get("probe")
    if probe is None:
        error = lines.get("error")
        if error is not None:
            raise ItemError(error["code"], error["message"])
        if ended == "timeout":
            message = f"reading the container took longer than {limits.timeout:g}s"
            raise ItemError("probe_timeout", message)
        raise ItemError("invalid_video", "the video could not be read (the prober stopped)")
    return _info(probe, lines, ended, poster_path, limits)


def _run_child(path: Path, poster_path: Path, limits: VideoLimits) -> tuple[dict[str, Any], str]:
    """The child's answers by their key, and how it ended: "finished" or "timeout". A child
    past its time is left to its own alarm, one second later."""
    request = {
        "path": str(path),
        "poster": str(poster_path),
        "limits": {
            "max_pixels": limits.max_pixels,
            "max_seconds": limits.max_seconds,
            "timeout": limits.timeout,
            "memory": limits.memory,
        },
    }
    readable, writable = os.pipe()
    try:
        try:
            _FORKS.fork(json.dumps(request).encode(), writable)
        finally:
            os.close(writable)  # the child holds the only writing end: its exit ends the answers
        return _answers(readable, time.monotonic() + limits.timeout)
    finally:
        os.close(readable)


def _answers(readable: int, deadline: float) -> tuple[dict[str, Any], str]:
    received = b""
    with selectors.DefaultSelector() as selector:
        selector.register(readable, selectors.EVENT_READ)
        while (left := deadline - time.monotonic()) > 0:
            if not selector.select(left):
                break
            chunk = os.read(readable, MAX_ANSWER)
            if not chunk:
                return _decoded(received), "finished"
            received = (received + chunk)[-MAX_ANSWER:]
    return _decoded(received), "timeout"


def _decoded(received: bytes) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for line in received.splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            continue  # a line the child was stopped while writing
        if isinstance(message, dict):
            found |= message
    return found


class _ForkServer:
    """This process's fork server, started at the first video and again if it died."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._socket: socket.socket | None = None

    def fork(self, request: bytes, answer: int) -> None:
        """Have a child probe `request`, answering on the file descriptor `answer`."""
        with self._lock:
            for attempt in range(2):
                if self._process is None or self._process.poll() is not None:
                    self._start()
                assert self._socket is not None
                try:
                    socket.send_fds(self._socket, [request], [answer])
                    if self._socket.recv(64):  # the fork server forked
                        return
                    raise OSError("the fork server ended")
                except OSError:
                    self._stop()
                    if attempt:
                        raise

    def _start(self) -> None:
        self._stop()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with theirs:
            self._process = subprocess.Popen(  # noqa: S603 (our own module)
                [sys.executable, "-m", FORK_SERVER, str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
            )
        ours.settimeout(FORK_SERVER_START)
        self._socket = ours

    def _stop(self) -> None:
        if self._socket is not None:
            self._socket.close()  # the fork server ends when its socket does
            self._socket = None
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None


_FORKS = _ForkServer()


def _info(
    probe: dict[str, Any], lines: dict[str, Any], ended: str, poster_path: Path, limits: VideoLimits
) -> VideoInfo:
    made = lines.get("poster")
    poster = None
    if made is not None and poster_path.exists():
        poster = Poster(poster_path, int(made["width"]), int(made["height"]))
    width, height = _display_size(probe, poster)
    return VideoInfo(
        duration=probe.get("duration"),
        width=width,
        height=height,
        video_codec=probe.get("videoCodec"),
        audio_codec=probe.get("audioCodec"),
        poster=poster,
        no_poster=None if poster else _no_poster(lines, ended, limits),
    )


def _display_size(probe: dict[str, Any], poster: Poster | None) -> tuple[int | None, int | None]:
    """The poster is the frame as displayed; without one, the coded size with its pixel aspect
    (the rotation is only known once a frame is decoded)."""
    if poster is not None:
        return poster.width, poster.height
    width, height = probe.get("width"), probe.get("height")
    aspect = probe.get("pixelAspect")
    if width and aspect and aspect[0] > 0 and aspect[1] > 0:
        width = max(1, round(width * aspect[0] / aspect[1]))
    return width, height


def _no_poster(lines: dict[str, Any], ended: str, limits: VideoLimits) -> str:
    if "noPoster" in lines:
        return str(lines["noPoster"])
    if ended == "timeout":
        return f"decoding a frame took longer than {limits.timeout:g}s"
    return "the frame could not be decoded (the prober stopped)"
