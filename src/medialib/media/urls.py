"""Where a stored asset can be seen: under medialib's own `/media` (or the bucket's public URL),
and, for images, through imgix when a project config names an imgix source."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import quote, urlencode


@dataclass(frozen=True)
class Imgix:
    """An imgix source serving the same keys; URLs are signed when it has a secure token."""

    host: str
    secure_token: str | None = None


@dataclass(frozen=True)
class ImageUrls:
    original_url: str
    url: str
    service: str


@dataclass(frozen=True)
class AssetUrls:
    """Makes the URLs of stored keys: `base` is where assets are reachable from outside."""

    base: str
    imgix: Imgix | None = None

    def asset(self, key: str) -> str:
        return f"{self.base}/{key}"

    def image(self, key: str) -> ImageUrls:
        """An image's original and display URLs, and which service makes them."""
        if self.imgix is None:
            own = self.asset(key)
            return ImageUrls(own, own, "medialib")
        original = imgix_url(self.imgix, key, {})
        return ImageUrls(original, imgix_url(self.imgix, key, {"auto": "format"}), "imgix")


def imgix_url(imgix: Imgix, key: str, params: dict[str, str]) -> str:
    """An imgix URL, signed with the source's secure token when there is one (imgix signs
    `token + path + ?query` with MD5 and appends it as `s`)."""
    path = "/" + quote(key)
    query = urlencode(params)
    url = f"https://{imgix.host}{path}" + (f"?{query}" if query else "")
    if imgix.secure_token:
        signed = imgix.secure_token + path + (f"?{query}" if query else "")
        signature = hashlib.md5(signed.encode(), usedforsecurity=False).hexdigest()
        url += ("&" if query else "?") + f"s={signature}"
    return url
