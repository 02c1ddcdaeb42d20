"""The kinds of media a media type can be (`type` in a project config: mediaImage, mediaVideo,
mediaFile), and everything that differs between them, in one place: what an entry's asset must
say, which types its bytes may be, whether it has a poster, the largest file it takes, and the
media type the built-in demo project has of it. Every other module reads them from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

from medialib.settings import Settings

MediaKind = Literal["mediaImage", "mediaVideo", "mediaFile"]


@dataclass(frozen=True)
class MediaKindRules:
    name: MediaKind
    demo_handle: str  # the built-in demo project's media type of this kind
    mime_family: str | None  # what its assets' mimeType starts with; None: any type
    required: tuple[str, ...]  # what an entry's asset of this kind must say
    has_poster: bool  # its asset may bring a stored poster frame (an image)
    largest: Callable[[Settings], int]  # the largest file it takes, by the settings

    def takes_type(self, mime_type: str) -> bool:
        return self.mime_family is None or mime_type.startswith(self.mime_family)


IMAGE = MediaKindRules(
    name="mediaImage",
    demo_handle="image",
    mime_family="image/",
    required=("key", "size", "width", "height", "mimeType", "filename"),
    has_poster=False,
    largest=lambda settings: max(settings.image_max_bytes, settings.animated_max_bytes),
)
VIDEO = MediaKindRules(
    name="mediaVideo",
    demo_handle="video",
    mime_family="video/",
    required=("key", "size", "width", "height", "duration", "mimeType", "filename"),
    has_poster=True,
    largest=lambda settings: settings.video_max_bytes,
)
FILE = MediaKindRules(
    name="mediaFile",
    demo_handle="file",
    mime_family=None,
    required=("key", "size", "mimeType", "filename"),
    has_poster=False,
    largest=lambda settings: settings.file_max_bytes,
)

MEDIA_KINDS: dict[MediaKind, MediaKindRules] = {kind.name: kind for kind in (IMAGE, VIDEO, FILE)}
assert set(MEDIA_KINDS) == set(get_args(MediaKind)), "every media kind has its rules"
