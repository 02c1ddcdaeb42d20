"""Real videos for import tests, encoded with PyAV (FFmpeg's own encoders), and damaged by hand
where a test needs a video that lies."""

from __future__ import annotations

import io
import struct
import tempfile
from fractions import Fraction
from functools import cache
from pathlib import Path

import av
import av.video.stream
from PIL import Image

# (PyAV format, video codec) for the containers a newsroom meets
CONTAINERS = {
    "mp4": ("mp4", "libx264"),
    "mov": ("mov", "libx264"),
    "webm": ("webm", "libvpx-vp9"),
    "mkv": ("matroska", "libx264"),
    "avi": ("avi", "mpeg4"),
    "ts": ("mpegts", "mpeg2video"),
}
MIME = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
    "mkv": "video/x-matroska",
    "avi": "video/x-msvideo",
    "ts": "video/mp2t",
}


def colour_at(second: float) -> tuple[int, int, int]:
    """Each tenth of a second has its own colour, so a poster tells which frame it shows."""
    tenth = round(second * 10)
    return (min(255, tenth * 20), 40, 255 - min(255, tenth * 20))


@cache
def video(
    container: str = "mp4",
    *,
    width: int = 64,
    height: int = 48,
    seconds: float = 2.0,
    rotation: int | None = None,
    audio: bool = False,
    faststart: bool = False,
    codec: str | None = None,
    pixel_aspect: tuple[int, int] | None = None,
) -> bytes:
    """A few seconds of generated frames (10 per second), optionally with a tone."""
    fmt, default_codec = CONTAINERS[container]
    options = {"movflags": "faststart"} if faststart else {}
    # A real file: moving the index to the front (faststart) reads the file back.
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"video.{container}"
        _encode(
            path,
            fmt,
            options,
            codec or default_codec,
            width,
            height,
            seconds,
            rotation,
            audio,
            pixel_aspect,
        )
        return path.read_bytes()


def _encode(
    path: Path,
    fmt: str,
    options: dict[str, str],
    codec: str,
    width: int,
    height: int,
    seconds: float,
    rotation: int | None,
    audio: bool,
    pixel_aspect: tuple[int, int] | None,
) -> None:
    with av.open(str(path), "w", format=fmt, options=options) as muxer:
        stream = _picture_stream(muxer, codec, width, height)
        if pixel_aspect is not None:
            stream.codec_context.sample_aspect_ratio = Fraction(*pixel_aspect)
        if rotation is not None:
            stream.set_display_rotation(rotation)
        sound = muxer.add_stream("aac", rate=8000) if audio else None
        for i in range(round(seconds * 10)):
            picture = Image.new("RGB", (width, height), colour_at(i / 10))
            picture.paste((255, 255, 255), (0, 0, width // 4, height // 4))  # a mark top left
            for packet in stream.encode(_frame(picture)):
                muxer.mux(packet)
        for packet in stream.encode():
            muxer.mux(packet)
        if sound is not None:
            _tone(muxer, sound, seconds)


def _picture_stream(
    muxer: av.container.OutputContainer, codec: str, width: int, height: int
) -> av.video.stream.VideoStream:
    stream = muxer.add_stream(codec, rate=10)
    assert isinstance(stream, av.video.stream.VideoStream)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    return stream


def _frame(picture: Image.Image) -> av.VideoFrame:
    frame: av.VideoFrame = av.VideoFrame.from_image(picture)  # type: ignore[no-untyped-call]
    return frame


def audio_only(seconds: float = 1.0) -> bytes:
    """An mp4 with a sound track and no picture (as a podcast's .mp4 is)."""
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as muxer:
        _tone(muxer, muxer.add_stream("aac", rate=8000), seconds)
    return out.getvalue()


def _tone(muxer: av.container.OutputContainer, sound: av.stream.Stream, seconds: float) -> None:
    samples = 1024
    for i in range(int(seconds * 8000 / samples) + 1):
        frame = av.AudioFrame(format="fltp", layout="mono", samples=samples)
        frame.sample_rate, frame.pts = 8000, i * samples
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        for packet in sound.encode(frame):  # type: ignore[attr-defined]
            muxer.mux(packet)
    for packet in sound.encode():  # type: ignore[attr-defined]
        muxer.mux(packet)


def with_streams(count: int) -> bytes:
    """A Matroska file with one picture and `count` silent sound tracks."""
    out = io.BytesIO()
    with av.open(out, "w", format="matroska") as muxer:
        stream = _picture_stream(muxer, "mpeg4", 16, 16)
        tracks = [muxer.add_stream("pcm_s16le", rate=8000, layout="mono") for _ in range(count)]
        for packet in stream.encode(_frame(Image.new("RGB", (16, 16)))):
            muxer.mux(packet)
        for packet in stream.encode():
            muxer.mux(packet)
        for track in tracks:
            frame = av.AudioFrame(format="s16", layout="mono", samples=80)
            frame.sample_rate = 8000
            for plane in frame.planes:
                plane.update(bytes(plane.buffer_size))
            for packet in [*track.encode(frame), *track.encode()]:
                muxer.mux(packet)
    return out.getvalue()


def declaring_size(width: int, height: int) -> bytes:
    """An AVI of raw 16x16 frames whose header claims `width` x `height`."""
    data = bytearray(video("avi", codec="rawvideo", width=16, height=16, seconds=0.5))
    header = data.index(b"strf") + 8  # the BITMAPINFOHEADER: size, then width and height
    struct.pack_into("<ii", data, header + 4, width, height)
    return bytes(data)


def declaring_duration(seconds: float) -> bytes:
    """A Matroska file whose Info says it lasts `seconds`."""
    data = bytearray(video("mkv", seconds=0.5))
    at = data.index(b"\x44\x89")  # Duration, in milliseconds by the default timestamp scale
    assert data[at + 2] == 0x88, "an 8-byte float"
    struct.pack_into(">d", data, at + 3, seconds * 1000)
    return bytes(data)


def cut(data: bytes, keep: float = 0.5) -> bytes:
    return data[: int(len(data) * keep)]
