"""Import kinds as data: everything that differs between importing images and files (and, next,
videos) is one `ImportKind`. A new kind is one more object here and its probe; the requests, the
pipeline, the routes (`/import/{plural}` and its `/status`) and the webhooks are made from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from medialib.errors import NotFound
from medialib.library.projects import MediaKind
from medialib.media.probe.image import probe_image
from medialib.media.probe.sniff import HTML, Sniffed
from medialib.media.probe.svg import svg_size
from medialib.media.urls import AssetUrls
from medialib.settings import Settings


@dataclass(frozen=True)
class Probed:
    """What probing learnt of a body: fields for its asset (`width`, `height`) and the metadata
    the file carries (EXIF, IPTC, XMP), for the media type's `exifExtraction`."""

    fields: dict[str, Any] = field(default_factory=dict)
    embedded: dict[str, Any] = field(default_factory=dict)


# (the sniffed type) -> why the kind does not take such bytes, or None when it does
Refusal = Callable[[Sniffed], str | None]
# (the sniffed type, the settings) -> the most bytes such a body may have
Cap = Callable[[Sniffed, Settings], int]
# (the file, its type, its last bytes, the settings) -> what it is; raises ItemError
Probe = Callable[[Path, Sniffed, bytes, Settings], Probed]
# (the item's fileName, its stored result or None, the URL maker) -> the kind's own fields of an
# item's status
Describe = Callable[[str, dict[str, Any] | None, AssetUrls], dict[str, Any]]


@dataclass(frozen=True)
class ImportKind:
    name: str  # a job's kind, and `<name>-import` as a webhook's source
    plural: str  # the request's and the status's list key, and the route: /import/<plural>
    media_kind: MediaKind  # the media types its items may have
    refuse: Refusal
    cap: Cap
    probe: Probe
    describe: Describe
    described: type[BaseModel]  # the shape of what `describe` returns, for the OpenAPI document


# --- Images -----------------------------------------------------------------------------------

ANIMATED = frozenset({"image/gif", "image/webp"})


def _refuse_image(sniffed: Sniffed) -> str | None:
    if sniffed.is_image:
        return None
    return f"the bytes are {sniffed.mime}, not a png, jpeg, gif, webp or svg image"


def _image_cap(sniffed: Sniffed, settings: Settings) -> int:
    return settings.animated_max_bytes if sniffed.mime in ANIMATED else settings.image_max_bytes


def _probe_image(path: Path, sniffed: Sniffed, tail: bytes, settings: Settings) -> Probed:
    info = probe_image(path, sniffed, tail, settings.image_max_pixels)
    return Probed({"width": info.width, "height": info.height}, info.embedded)


def _describe_image(
    file_name: str, result: dict[str, Any] | None, urls: AssetUrls
) -> dict[str, Any]:
    out: dict[str, Any] = {"title": file_name}
    if result:
        image = urls.image(result["key"])
        out["image"] = {
            "mediaId": result["mediaId"],
            "originalUrl": image.original_url,
            "url": image.url,
            "width": result.get("width"),
            "height": result.get("height"),
            "mimeType": result.get("mimeType"),
            "imageService": image.service,
        }
    return out


class ImageOut(BaseModel):
    mediaId: str
    originalUrl: str
    url: str
    width: int | None
    height: int | None
    mimeType: str | None
    imageService: str


class ImageItem(BaseModel):
    title: str
    image: ImageOut | None = None


IMAGE = ImportKind(
    name="image",
    plural="images",
    media_kind="mediaImage",
    refuse=_refuse_image,
    cap=_image_cap,
    probe=_probe_image,
    describe=_describe_image,
    described=ImageItem,
)


# --- Files ------------------------------------------------------------------------------------


def _refuse_file(sniffed: Sniffed) -> str | None:
    return "the bytes are an HTML page, not a file" if sniffed == HTML else None


def _probe_file(path: Path, sniffed: Sniffed, tail: bytes, settings: Settings) -> Probed:
    if sniffed.mime == "image/svg+xml":
        svg_size(path)  # served as an image: it must be as safe as one
    return Probed()


def _describe_file(
    file_name: str, result: dict[str, Any] | None, urls: AssetUrls
) -> dict[str, Any]:
    out: dict[str, Any] = {"fileName": file_name}
    if result:
        out["mediaId"] = result["mediaId"]
    return out


class FileItem(BaseModel):
    fileName: str
    mediaId: str | None = None


FILE = ImportKind(
    name="file",
    plural="files",
    media_kind="mediaFile",
    refuse=_refuse_file,
    cap=lambda sniffed, settings: settings.file_max_bytes,
    probe=_probe_file,
    describe=_describe_file,
    described=FileItem,
)


KINDS: tuple[ImportKind, ...] = (IMAGE, FILE)
_BY_NAME = {kind.name: kind for kind in KINDS}


def kind_named(name: str) -> ImportKind:
    """The kind of a stored job."""
    kind = _BY_NAME.get(name)
    if kind is None:
        raise NotFound(f"no import kind {name!r}")
    return kind
