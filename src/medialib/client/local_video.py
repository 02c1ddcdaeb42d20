"""A local video's facts for the synchronous import: its type from its name, its duration and
displayed size from its container (PyAV, which reads the headers and index, not the frames)."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

import av


class VideoFileError(Exception):
    """The file is no video PyAV can read."""


def describe_video(path: Path) -> dict[str, Any]:
    guessed, _ = mimetypes.guess_type(path.name)
    if guessed is None or not guessed.startswith("video/"):
        raise VideoFileError(
            f"{path.name} does not have a video's file name (.mp4, .mov, .webm, …)"
        )
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoFileError(f"{path.name} has no video stream")
            stream = container.streams.video[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            if container.duration is not None:
                seconds = container.duration / av.time_base
            elif stream.duration is not None and stream.time_base is not None:
                seconds = float(stream.duration * stream.time_base)
            else:
                raise VideoFileError(f"{path.name} does not say how long it is")
    except av.FFmpegError as error:
        raise VideoFileError(f"{path.name} is not a video PyAV can read: {error}") from error
    return {"mimeType": guessed, "width": width, "height": height, "duration": round(seconds, 3)}
