"""Local files as assets: what the synchronous import needs to be told about each (its size and
type, an image's dimensions from its header), read here so the server can check it."""

from __future__ import annotations

import mimetypes
import warnings
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from medialib.client.local_video import VideoFileError, describe_video

# Pillow's format names and the types medialib takes as images (SVG is sent as a file).
IMAGE_TYPES = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}


class LocalFileError(Exception):
    """A file that cannot be sent as it is (unreadable, or not what its kind needs)."""


def describe(path: Path, media_kind: str) -> dict[str, Any]:
    """The asset fields of a local file of `media_kind` (mediaImage, mediaVideo, mediaFile)."""
    try:
        size = path.stat().st_size
    except OSError as error:
        raise LocalFileError(f"cannot read {path}: {error.strerror}") from error
    if size == 0:
        raise LocalFileError(f"{path} is empty")
    if media_kind == "mediaImage":
        return {"size": size} | _image(path)
    if media_kind == "mediaVideo":
        try:
            return {"size": size} | describe_video(path)
        except VideoFileError as error:
            raise LocalFileError(str(error)) from error
    guessed, _ = mimetypes.guess_type(path.name)
    return {"size": size, "mimeType": guessed or "application/octet-stream"}


def _image(path: Path) -> dict[str, Any]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as image:
                width, height = image.size
                kind = image.format or ""
    except (UnidentifiedImageError, OSError) as error:
        raise LocalFileError(f"{path} is not an image this client can read") from error
    if kind not in IMAGE_TYPES:
        raise LocalFileError(f"{path} is a {kind} image, which medialib does not take")
    return {"mimeType": IMAGE_TYPES[kind], "width": width, "height": height}
