"""Import kinds as data: everything that differs between importing images, files and videos is
one `ImportKind`. A new kind is one more object here and its probe; the requests, the
pipeline, the routes (`/import/{plural}` and its `/status`) and the webhooks are made from it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from medialib.errors import NotFound
from medialib.library import media_kinds
from medialib.library.media_kinds import MediaKind
from medialib.library.models import JsonObject
from medialib.media.probe.image import probe_image
from medialib.media.probe.sniff import HTML, Sniffed
from medialib.media.probe.svg import SVG_MAX_BYTES, svg_size
from medialib.media.probe.video import VideoLimits, probe_video
from medialib.media.urls import AssetUrls
from medialib.settings import Settings


@dataclass(frozen=True)
class Companion:
    """A file probing made beside the body (a video's poster frame): stored as an object of its
    own, and described in the asset under its name as `{key, mimeType, **fields}`."""

    path: Path
    extension: str
    mime: str
    fields: JsonObject


@dataclass(frozen=True)
class Notice:
    """Why an item that succeeded lacks something (a video without a poster), for its status."""

    code: str
    reason: str


@dataclass(frozen=True)
class Probed:
    """What probing learnt of a body: fields for its asset (`width`, `height`), the metadata the
    file carries (EXIF, IPTC, XMP) for the media type's `exifExtraction`, files made from it,
    and what the item's status should say although it succeeded."""

    fields: JsonObject = field(default_factory=dict)
    embedded: JsonObject = field(default_factory=dict)
    companions: dict[str, Companion] = field(default_factory=dict)
    notice: Notice | None = None


# (the sniffed type) -> why the kind does not take such bytes, or None when it does
Refusal = Callable[[Sniffed], str | None]
# (the sniffed type, the settings) -> the most bytes such a body may have
Cap = Callable[[Sniffed, Settings], int]
# (the file, its type, its last bytes, the settings) -> what it is; raises ItemError
Probe = Callable[[Path, Sniffed, bytes, Settings], Probed]
# (the type, the size) -> whether probing takes less than a thread hop (tens of µs): then it
# runs on the event loop
CheapProbe = Callable[[Sniffed, int], bool]
# (the item's fileName, its stored result or None, the URL maker) -> the kind's own fields of an
# item's status
Describe = Callable[[str, JsonObject | None, AssetUrls], JsonObject]


@dataclass(frozen=True)
class ImportKind:
    name: str  # a job's kind, and `<name>-import` as a webhook's source
    plural: str  # the request's and the status's list key, and the route: /import/<plural>
    media_kind: MediaKind  # the media types its items may have
    refuse: Refusal
    cap: Cap
    probe: Probe
    cheap_probe: CheapProbe
    describe: Describe
    described: type[BaseModel]  # the shape of what `describe` returns, for the OpenAPI document


# --- Images -----------------------------------------------------------------------------------

ANIMATED = frozenset({"image/gif", "image/webp"})
CHEAP_PROBE_BYTES = 1024 * 1024


def _refuse_image(sniffed: Sniffed) -> str | None:
    if sniffed.is_image:
        return None
    return f"the bytes are {sniffed.mime}, not a png, jpeg, gif, webp or svg image"


def _image_cap(sniffed: Sniffed, settings: Settings) -> int:
    if sniffed.mime == "image/svg+xml":
        return min(settings.image_max_bytes, SVG_MAX_BYTES)
    return settings.animated_max_bytes if sniffed.mime in ANIMATED else settings.image_max_bytes


def _file_cap(sniffed: Sniffed, settings: Settings) -> int:
    """An SVG is parsed whole to be checked (as a registered one is): an SVG's cap."""
    if sniffed.mime == "image/svg+xml":
        return min(settings.file_max_bytes, SVG_MAX_BYTES)
    return settings.file_max_bytes


def _probe_image(path: Path, sniffed: Sniffed, tail: bytes, settings: Settings) -> Probed:
    info = probe_image(path, sniffed, tail, settings.image_max_pixels)
    return Probed({"width": info.width, "height": info.height}, info.embedded)


def _cheap_image_probe(sniffed: Sniffed, size: int) -> bool:
    """A raster image's header and metadata blocks, read by Pillow from a small file (55 µs for
    100 KB of JPEG); an SVG is parsed whole, so it goes to a thread."""
    return sniffed.mime != "image/svg+xml" and size <= CHEAP_PROBE_BYTES


def _describe_image(file_name: str, result: JsonObject | None, urls: AssetUrls) -> JsonObject:
    out: JsonObject = {"title": file_name}
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
        } | _analysed(result)
        if result.get("similarTo"):
            out["similarTo"] = result["similarTo"]
    return out


def _analysed(picture: JsonObject) -> JsonObject:
    """What the analysis found of a picture, as far as it was analysed."""
    return {
        name: picture[name] for name in ("placeholder", "color", "focalPoint") if name in picture
    }


class FocalPointOut(BaseModel):
    x: float
    y: float
    source: str  # faces | saliency | editor


class Analysed(BaseModel):
    """What the analysis found of a picture (absent until it is analysed)."""

    placeholder: str | None = None  # a ThumbHash, base64
    color: str | None = None  # the dominant colour, #rrggbb
    focalPoint: FocalPointOut | None = None


class ImageOut(Analysed):
    mediaId: str
    originalUrl: str
    url: str
    width: int | None
    height: int | None
    mimeType: str | None
    imageService: str


class SimilarOut(BaseModel):
    mediaId: str
    distance: int  # bits of the perceptual hashes that differ


class ImageItem(BaseModel):
    title: str
    image: ImageOut | None = None
    similarTo: list[SimilarOut] | None = None  # near-duplicates held already, closest first


IMAGE = ImportKind(
    name="image",
    plural="images",
    media_kind=media_kinds.IMAGE.name,
    refuse=_refuse_image,
    cap=_image_cap,
    probe=_probe_image,
    cheap_probe=_cheap_image_probe,
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


def _describe_file(file_name: str, result: JsonObject | None, urls: AssetUrls) -> JsonObject:
    out: JsonObject = {"fileName": file_name}
    if result:
        out["mediaId"] = result["mediaId"]
    return out


class FileItem(BaseModel):
    fileName: str
    mediaId: str | None = None


FILE = ImportKind(
    name="file",
    plural="files",
    media_kind=media_kinds.FILE.name,
    refuse=_refuse_file,
    cap=_file_cap,
    probe=_probe_file,
    cheap_probe=lambda sniffed, size: sniffed.mime != "image/svg+xml",  # nothing else to read
    describe=_describe_file,
    described=FileItem,
)


# --- Videos -----------------------------------------------------------------------------------


def _refuse_video(sniffed: Sniffed) -> str | None:
    if sniffed.is_video:
        return None
    return f"the bytes are {sniffed.mime}, not a video (mp4, mov, webm, mkv, avi, mpeg-ts, ...)"


def _probe_video(path: Path, sniffed: Sniffed, tail: bytes, settings: Settings) -> Probed:
    limits = VideoLimits(
        max_pixels=settings.video_max_pixels,
        max_seconds=settings.video_max_seconds,
        timeout=settings.video_probe_timeout,
        memory=settings.video_probe_memory,
    )
    info = probe_video(path, path.with_name(f"{path.name}.poster.jpeg"), limits)
    fields: JsonObject = {"width": info.width, "height": info.height, "duration": info.duration}
    fields |= {"videoCodec": info.video_codec, "audioCodec": info.audio_codec}
    fields = {name: value for name, value in fields.items() if value is not None}
    if info.poster is None:
        notice = Notice("no_poster", f"imported without a poster: {info.no_poster}")
        return Probed(fields, notice=notice)
    poster = info.poster
    size = {"width": poster.width, "height": poster.height}
    return Probed(fields, companions={"poster": Companion(poster.path, "jpeg", "image/jpeg", size)})


def _describe_video(file_name: str, result: JsonObject | None, urls: AssetUrls) -> JsonObject:
    if not result:
        return {}
    poster, url = result.get("poster"), urls.asset(result["key"])
    similar = {"similarTo": result["similarTo"]} if result.get("similarTo") else {}
    return similar | {
        "video": {
            "mediaId": result["mediaId"],
            "originalUrl": url,
            "url": url,
            "mimeType": result.get("mimeType"),
            "width": result.get("width"),
            "height": result.get("height"),
            "duration": result.get("duration"),
            "poster": poster
            and {
                "key": poster["key"],
                "url": urls.display(poster["key"]),
                "width": poster.get("width"),
                "height": poster.get("height"),
            }
            | _analysed(poster),
        }
    }


class PosterOut(Analysed):
    key: str
    url: str
    width: int | None
    height: int | None


class VideoOut(BaseModel):
    mediaId: str
    originalUrl: str
    url: str
    mimeType: str | None
    width: int | None
    height: int | None
    duration: float | None
    poster: PosterOut | None


class VideoItem(BaseModel):
    video: VideoOut | None = None
    similarTo: list[SimilarOut] | None = None  # near-duplicates of its poster, closest first


VIDEO = ImportKind(
    name="video",
    plural="videos",
    media_kind=media_kinds.VIDEO.name,
    refuse=_refuse_video,
    cap=lambda sniffed, settings: settings.video_max_bytes,
    probe=_probe_video,
    cheap_probe=lambda sniffed, size: False,  # a prober process answers: a blocking wait
    describe=_describe_video,
    described=VideoItem,
)


@dataclass(frozen=True)
class ImportKinds:
    """The kinds one server imports: its routes, schemas, CLI choices and stored jobs' kinds are
    read from here (the runtime holds one; a test may add a kind of its own)."""

    all: tuple[ImportKind, ...]

    def __iter__(self) -> Iterator[ImportKind]:
        return iter(self.all)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(kind.name for kind in self.all)

    def named(self, name: str) -> ImportKind:
        """The kind of a stored job."""
        for kind in self.all:
            if kind.name == name:
                return kind
        raise NotFound(f"no import kind {name!r}")

    def with_kind(self, kind: ImportKind) -> ImportKinds:
        return ImportKinds((*self.all, kind))


KINDS = ImportKinds((IMAGE, FILE, VIDEO))
