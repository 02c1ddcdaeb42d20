"""The video prober: `run` works in a child forked for one video by the fork server
(`video_forks.py`).

FFmpeg parses a stranger's bytes here, in a process of its own under hard limits (address
space, CPU seconds, a wall-clock alarm, the size of what it writes), so that a hostile video can
at worst kill this process, never the worker that asked. It writes one JSON line when the
container is read (`{"probe": ...}` or `{"error": {"code", "message"}}`) and one when the poster
is made (`{"poster": ...}` or `{"noPoster": why}`); the worker (`video.py`) reads them. JSON, not
pickles: a process FFmpeg may have been tricked into running must not be able to run code in
the worker by what it answers.
"""

from __future__ import annotations

import json
import math
import os
import resource
import signal
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.container
import av.stream
import av.video.stream
from PIL import Image

POSTER_AT = 1.0  # seconds into the video
POSTER_QUALITY = 85
MAX_STREAMS = 64
# Frames decoded after the seek before the nearest one is taken: a long GOP costs time, not
# memory, and the alarm bounds the time anyway.
MAX_FRAMES_AFTER_SEEK = 1000
MAX_SIDE = 65_535
SEEK_SLACK = 0.05  # seconds a seek may land past the moment asked for


class Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def run(path: str, poster_path: str, limits: dict[str, Any], answer: int) -> None:
    """Probe the video at `path`, write its poster to `poster_path`, and answer on the file
    descriptor `answer`."""
    _confine(limits)

    def say(**message: Any) -> None:
        os.write(answer, json.dumps(message).encode() + b"\n")

    try:
        container = av.open(path, metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        say(error={"code": "invalid_video", "message": f"not a readable video: {_why(exc)}"})
        return
    with container:
        try:
            probe = _probe(container, Path(path), limits)
        except Refused as refused:
            say(error={"code": refused.code, "message": refused.message})
            return
        except Exception as exc:  # whatever else a hostile file makes PyAV raise
            say(error={"code": "invalid_video", "message": f"not a readable video: {_why(exc)}"})
            return
        say(probe=probe)
        try:
            say(poster=_poster(container, Path(poster_path), limits, probe["duration"]))
        except Refused as refused:
            say(noPoster=refused.message)
        except Exception as exc:
            say(noPoster=f"the frame could not be made: {_why(exc)}")


def _confine(limits: dict[str, Any]) -> None:
    """Hard limits: the kernel stops this process, whatever FFmpeg does."""
    memory = int(limits["memory"])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    seconds = math.ceil(float(limits["timeout"])) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024**2, 64 * 1024**2))
    signal.alarm(seconds + 1)  # wall clock, should the parent be gone


def _probe(container: av.container.InputContainer, path: Path, limits: dict[str, Any]) -> Any:
    streams = container.streams
    if len(streams) > MAX_STREAMS:
        raise Refused(
            "too_many_streams", f"the file has {len(streams)} streams, more than {MAX_STREAMS}"
        )
    if not streams.video and not streams.audio:
        raise Refused("invalid_video", "the file has neither a video nor an audio stream")
    duration = _duration(container)
    if duration is not None and not 0 <= duration <= float(limits["max_seconds"]):
        raise Refused(
            "too_long",
            f"the file says it lasts {duration:g}s, more than {float(limits['max_seconds']):g}s",
        )
    _check_complete(container, path)
    video = _picture_stream(container)
    probe: dict[str, Any] = {
        "format": container.format.name,
        "duration": duration,
        "videoCodec": video.codec_context.name if video else None,
        "audioCodec": streams.audio[0].codec_context.name if streams.audio else None,
    }
    if video is not None:
        width, height = video.codec_context.width, video.codec_context.height
        _check_pixels(width, height, int(limits["max_pixels"]))
        if not width or not height:
            # FFmpeg zeroes sizes beyond what it can allocate (about 16384 by 16384).
            raise Refused("invalid_video", "the video stream declares no valid frame size")
        aspect = video.sample_aspect_ratio
        probe |= {"width": width, "height": height}
        probe["pixelAspect"] = [aspect.numerator, aspect.denominator] if aspect else None
    return probe


def _duration(container: av.container.InputContainer) -> float | None:
    if container.duration is not None and container.duration > 0:
        return round(container.duration / av.time_base, 6)
    for stream in container.streams:
        if stream.duration and stream.time_base:
            return round(float(stream.duration * stream.time_base), 6)
    return None


def _check_complete(container: av.container.InputContainer, path: Path) -> None:
    """A file cut short fails where its container says how long it is: the packet index of mp4
    and mov, the declared size of a RIFF (avi) or a Matroska segment (mkv, webm)."""
    size = path.stat().st_size
    with path.open("rb") as file:
        head = file.read(64)
    declared = declared_size(head)
    if container.format.name.startswith("mov"):
        for stream in container.streams:
            entries = stream.index_entries
            if entries:
                last = entries[len(entries) - 1]
                declared = max(declared or 0, last.pos + last.size)
    if declared is not None and declared > size:
        raise Refused(
            "truncated_video",
            f"the file is {size} bytes but its container says {declared}: it is cut short",
        )


_EBML = bytes.fromhex("1a45dfa3")
_SEGMENT = bytes.fromhex("18538067")


def declared_size(head: bytes) -> int | None:
    """The size a RIFF or Matroska file's first bytes declare for the whole file, if any."""
    if head[:4] == b"RIFF" and len(head) >= 8:
        return int.from_bytes(head[4:8], "little") + 8
    if not head.startswith(_EBML):
        return None
    header_size, at = _vint(head, 4)
    if header_size is None:
        return None
    segment = at + header_size
    if head[segment : segment + 4] != _SEGMENT:
        return None
    segment_size, data = _vint(head, segment + 4)
    return None if segment_size is None else data + segment_size


def _vint(data: bytes, at: int) -> tuple[int | None, int]:
    """An EBML variable-size integer at `at`: (its value, where the data after it starts);
    None for an unknown size (all ones, as live recordings write) or bytes that end first."""
    if at >= len(data) or data[at] == 0:
        return None, at
    length = 9 - data[at].bit_length()
    if at + length > len(data):
        return None, at
    value = data[at] & (0xFF >> length)
    for byte in data[at + 1 : at + length]:
        value = value << 8 | byte
    unknown = value == (1 << (7 * length)) - 1
    return (None if unknown else value), at + length


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width > MAX_SIDE or height > MAX_SIDE or width * height > max_pixels:
        raise Refused(
            "too_many_pixels",
            f"the video declares {width}x{height} pixels, more than {max_pixels} per frame",
        )


def _picture_stream(container: av.container.InputContainer) -> av.video.stream.VideoStream | None:
    """The first video stream that is moving pictures, not a cover image."""
    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    return None


def _poster(
    container: av.container.InputContainer,
    target: Path,
    limits: dict[str, Any],
    duration: float | None,
) -> Any:
    stream = _picture_stream(container)
    if stream is None:
        raise Refused("no_poster", "the file has no video stream")
    stream.codec_context.thread_count = 1  # one frame's worth of memory, not one per thread
    frame = _frame_near(container, stream, duration)
    _check_pixels(frame.width, frame.height, int(limits["max_pixels"]))
    image = _displayed(frame.to_image(), stream.sample_aspect_ratio, frame.rotation)
    image.save(target, "JPEG", quality=POSTER_QUALITY)
    return {"width": image.width, "height": image.height, "rotation": frame.rotation}


def _frame_near(container: av.container.InputContainer, stream: Any, duration: float | None) -> Any:
    """The frame shown at POSTER_AT seconds, or the first one of a shorter video."""
    start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
    at = start + (POSTER_AT if duration is None or duration > POSTER_AT else 0.0)
    if at > start:
        frame = _decode_from(container, stream, at, seek=True)
        if frame.time is None or frame.time <= at + SEEK_SLACK:
            return frame
        # The seek landed past the moment (MPEG-TS seeks by byte estimates): from the start.
    return _decode_from(container, stream, at, seek=False)


def _decode_from(container: av.container.InputContainer, stream: Any, at: float, seek: bool) -> Any:
    """The first frame at or after `at`, decoding from a seek to `at` or from the start."""
    try:
        if seek:
            container.seek(int(at / stream.time_base), stream=stream)
        else:
            container.seek(0)
    except av.FFmpegError:
        pass  # not seekable: decode on from where the demuxer stands
    chosen = None
    try:
        for count, frame in enumerate(container.decode(stream)):
            chosen = frame
            if frame.time is None or frame.time >= at - 0.001 or count >= MAX_FRAMES_AFTER_SEEK:
                break
    except (av.FFmpegError, MemoryError) as exc:
        if chosen is None:
            raise Refused("no_poster", f"the video could not be decoded: {_why(exc)}") from exc
    if chosen is None:
        raise Refused("no_poster", "no frame of the video could be decoded")
    return chosen


def _displayed(image: Image.Image, aspect: Fraction | None, rotation: float) -> Image.Image:
    """The frame as a player shows it: non-square pixels stretched, the display matrix's
    rotation (counterclockwise degrees) applied."""
    if aspect and aspect != 1:
        image = image.resize((max(1, round(image.width * aspect)), image.height))
    turn = round(rotation / 90) % 4
    if turn:
        transposes = (Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_180)
        image = image.transpose((*transposes, Image.Transpose.ROTATE_270)[turn - 1])
    return image


def _why(exc: BaseException) -> str:
    """FFmpeg's words for what went wrong, without the file's temporary path."""
    if isinstance(exc, av.FFmpegError) and exc.strerror:
        return str(exc.strerror)[:300]
    return str(exc)[:300]
