"""What a video is (container, duration, display size, codecs) and its poster frame, learnt by
FFmpeg (through PyAV) in a process of its own: `video_child.py` runs under hard limits of memory
and time, so a hostile file costs at most one killed process and a failed item.

The server itself never loads FFmpeg: the child is started per video (about a tenth of a second,
small beside fetching a video), at most one per core at once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medialib.errors import ItemError

CHILD = "medialib.media.probe.video_child"
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
        raise ItemError("invalid_video", f"the video could not be read (the prober {ended})")
    return _info(probe, lines, ended, poster_path, limits)


def _run_child(path: Path, poster_path: Path, limits: VideoLimits) -> tuple[dict[str, Any], str]:
    """The child's JSON lines by their key, and how it ended."""
    arguments = json.dumps(
        {
            "max_pixels": limits.max_pixels,
            "max_seconds": limits.max_seconds,
            "timeout": limits.timeout,
            "memory": limits.memory,
        }
    )
    command = [sys.executable, "-m", CHILD, str(path), str(poster_path), arguments]
    with subprocess.Popen(  # noqa: S603 (our own module, arguments are ours)
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    ) as child:
        try:
            output, _ = child.communicate(timeout=limits.timeout)
            ended = "finished" if child.returncode == 0 else _death(child.returncode)
        except subprocess.TimeoutExpired as expired:
            child.kill()
            child.communicate()
            output, ended = bytes(expired.output or b""), "timeout"
    return _lines(output), ended


def _death(returncode: int) -> str:
    if returncode < 0:
        return f"was killed by signal {-returncode}"
    return f"exited with status {returncode}"


def _lines(output: bytes) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for raw in output.splitlines():
        try:
            line = json.loads(raw)
        except ValueError:
            continue  # a line cut off by the kill
        if isinstance(line, dict):
            found |= line
    return found


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
    return f"the frame could not be decoded (the prober {ended})"
