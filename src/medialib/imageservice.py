"""Where an image can be seen: medialib's own /media URL, or an imgix URL when configured."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from medialib.config import ImgixConfig


@dataclass(frozen=True)
class ImageUrls:
    original_url: str
    url: str
    service: str


def image_urls(key: str, media_base_url: str, imgix: ImgixConfig | None) -> ImageUrls:
    if imgix is None:
        own = f"{media_base_url}/{key}"
        return ImageUrls(own, own, "medialib")
    return ImageUrls(imgix_url(imgix, key, {}), imgix_url(imgix, key, {"auto": "format"}), "imgix")


def imgix_url(imgix: ImgixConfig, key: str, params: dict[str, str]) -> str:
    """An imgix URL, signed with the source's secure token when there is one (imgix signs
    `token + path + ?query` with MD5 and appends it as `s`)."""
    path = "/" + quote(key)
    query = urlencode(params)
    url = f"https://{imgix.host}{path}" + (f"?{query}" if query else "")
    if imgix.secureToken:
        signed = imgix.secureToken + path + (f"?{query}" if query else "")
        signature = hashlib.md5(signed.encode(), usedforsecurity=False).hexdigest()
        url += ("&" if query else "?") + f"s={signature}"
    return url
