"""What a body is, from its first bytes: names and headers are never asked."""

from __future__ import annotations

import re
from dataclasses import dataclass

import filetype


@dataclass(frozen=True)
class Sniffed:
    mime: str
    extension: str

    @property
    def is_image(self) -> bool:
        return self.mime in IMAGE_TYPES


IMAGE_TYPES = {
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/svg+xml": "svg",
}
HTML = Sniffed("text/html", "html")
_HTML_START = re.compile(
    rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|script|iframe)[\s>]", re.I | re.S
)
# An XML prolog (declaration, comments, a doctype, possibly with an internal subset) and then
# an <svg> element: loose on purpose, the safe parser has the last word.
_SVG_START = re.compile(rb"^\s*(<\?xml|<!--|<!doctype\s+svg|<svg[\s>])", re.I)


def sniff(head: bytes) -> Sniffed:
    """The type of a body from its first bytes; names and headers are not asked."""
    body = head.removeprefix(b"\xef\xbb\xbf")
    if body.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("image/png", "png")
    if body.startswith(b"\xff\xd8\xff"):
        return Sniffed("image/jpeg", "jpeg")
    if body[:6] in (b"GIF87a", b"GIF89a"):
        return Sniffed("image/gif", "gif")
    if body[:4] == b"RIFF" and body[8:12] == b"WEBP":
        return Sniffed("image/webp", "webp")
    if _HTML_START.match(body):
        return HTML
    if _SVG_START.match(body) and re.search(rb"<svg[\s>]", body, re.I):
        return Sniffed("image/svg+xml", "svg")
    kind = filetype.guess(body)
    if kind is not None:
        return Sniffed(kind.mime, kind.extension)
    if body.startswith(b"%PDF-"):
        return Sniffed("application/pdf", "pdf")
    if _is_text(body):
        return Sniffed("text/plain", "txt")
    return Sniffed("application/octet-stream", "bin")


def _is_text(body: bytes) -> bool:
    if b"\x00" in body:
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sniffed bytes is still text.
        return exc.start >= len(body) - 3
    return True
