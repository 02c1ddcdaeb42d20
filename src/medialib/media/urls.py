"""Where a stored asset can be seen: under medialib's own `/media` (or the bucket's public URL),
its renditions from medialib's image service, and, for images, through imgix when a project
config names an imgix source. Both image services sign URLs the same way (imgix's scheme)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlparse

AUTO_FORMAT = {"auto": "format"}


@dataclass(frozen=True)
class Imgix:
    """An imgix source serving the same keys; URLs are signed when it has a secure token."""

    host: str
    secure_token: str | None = None


@dataclass(frozen=True)
class ImageService:
    """medialib's own image service: renditions at `base/<key>?<imgix parameters>`, signed
    when there is a secure token."""

    base: str
    secure_token: str | None = None

    @property
    def path(self) -> str:
        return urlparse(self.base).path.rstrip("/")


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
    service: ImageService | None = None

    def asset(self, key: str) -> str:
        return f"{self.base}/{key}"

    def image(self, key: str) -> ImageUrls:
        """An image's original and display URLs, and which service makes them."""
        if self.imgix is not None:
            original = imgix_url(self.imgix, key, {})
            return ImageUrls(original, imgix_url(self.imgix, key, {"auto": "format"}), "imgix")
        return ImageUrls(self.asset(key), self.rendition(key, AUTO_FORMAT), "medialib")

    def rendition(self, key: str, params: dict[str, str]) -> str:
        """A rendition's URL from medialib's own image service."""
        service = self.service or ImageService(self.base)
        return _signed(service.base.rstrip("/"), key, params, service.secure_token)

    @property
    def renders(self) -> bool:
        """Whether image URLs handed out are renditions of medialib's own service."""
        return self.imgix is None

    def display(self, key: str) -> str:
        """The URL to show an image by: its rendition with `auto=format` from medialib's own
        image service, or the stored original when imgix serves the images."""
        return self.rendition(key, AUTO_FORMAT) if self.renders else self.asset(key)


def imgix_url(imgix: Imgix, key: str, params: dict[str, str]) -> str:
    """An imgix URL, signed with the source's secure token when there is one."""
    return _signed(f"https://{imgix.host}", key, params, imgix.secure_token)


def _signed(base: str, key: str, params: dict[str, str], token: str | None) -> str:
    path = "/" + quote(key)
    query = urlencode(params)
    url = base + path + (f"?{query}" if query else "")
    if token:
        full_path = urlparse(base).path + path
        url += ("&" if query else "?") + f"s={signature(token, full_path, query)}"
    return url


def signature(token: str, path: str, query: str) -> str:
    """imgix's signature: MD5 of the token, the path and `?query` (when there is a query)."""
    signed = token + path + (f"?{query}" if query else "")
    return hashlib.md5(signed.encode(), usedforsecurity=False).hexdigest()


def signed_query(raw_query: str) -> tuple[str, str | None]:
    """A raw query string split into the part that is signed and the signature `s` (which
    imgix puts last)."""
    parts = raw_query.split("&") if raw_query else []
    if parts and parts[-1].startswith("s="):
        return "&".join(parts[:-1]), parts[-1][2:]
    return raw_query, None


def is_signed(token: str, paths: tuple[str, ...], raw_query: str) -> bool:
    """Whether the URL at one of `paths` with `raw_query` carries the token's signature."""
    query, given = signed_query(raw_query)
    if not given:
        return False
    return any(hmac.compare_digest(signature(token, path, query), given.lower()) for path in paths)
