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

    @property
    def is_video(self) -> bool:
        return self.mime in VIDEO_TYPES


IMAGE_TYPES = {
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/svg+xml": "svg",
}
# The containers a newsroom's archive holds video in; PyAV reads them all.
VIDEO_TYPES = {
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/x-m4v": "m4v",
    "video/3gpp": "3gp",
    "video/webm": "webm",
    "video/x-matroska": "mkv",
    "video/x-msvideo": "avi",
    "video/mp2t": "ts",
    "video/mpeg": "mpg",
    "video/x-flv": "flv",
    "video/x-ms-wmv": "wmv",
    "application/mxf": "mxf",
}
HTML = Sniffed("text/html", "html")
# MXF files (broadcast) open with a SMPTE header partition pack key.
_MXF_START = bytes.fromhex("060e2b34020501010d010201")
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
    if _is_transport_stream(body):
        return Sniffed("video/mp2t", "ts")
    if body.startswith(_MXF_START):
        return Sniffed("application/mxf", "mxf")
    kind = filetype.guess(body)
    if kind is not None:
        return Sniffed(kind.mime, kind.extension)
    if body.startswith(b"%PDF-"):
        return Sniffed("application/pdf", "pdf")
    if _is_text(body):
        return Sniffed("text/plain", "txt")
    return Sniffed("application/octet-stream", "bin")


def _is_transport_stream(body: bytes) -> bool:
    """MPEG-TS: 188-byte packets that each start with the sync byte 0x47 (M2TS, as cameras and
    Blu-ray write it, puts a 4-byte timestamp before each packet: 192 bytes)."""
    for offset, size in ((0, 188), (4, 192)):
        starts = range(offset, offset + 3 * size, size)
        if len(body) > starts[-1] and all(body[i] == 0x47 for i in starts):
            return True
    return False


def _is_text(body: bytes) -> bool:
    if b"\x00" in body:
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sniffed bytes is still text.
        return exc.start >= len(body) - 3
    return True
