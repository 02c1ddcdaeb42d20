"""A JPEG's dimensions and EXIF orientation read from its marker segments, for the plain files
that are nearly all of an archive, without Pillow.

Registering a thousand entries reads a thousand headers, and Pillow's `Image.open` with
`getexif()` costs about 20 µs each (its JPEG parser is Python too, and makes an image object
and its EXIF object on the way); walking the segments here costs a few. Only what this module
is sure Pillow would answer alike is answered: anything unusual (padding or junk between
segments, an XMP packet, a second EXIF block, a multi-picture or Photoshop block, a segment
Pillow would fail to read, an EXIF block this reader does not follow to its end) gives None, and
the caller asks Pillow (`facts.read_facts`; tests/media/test_jpeg_header.py compares the two on
mutated bytes).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from PIL import Image

_SOI = b"\xff\xd8"
_SOS, _DQT = 0xDA, 0xDB
_APP0, _APP1, _APP2, _APP13, _APP14 = 0xE0, 0xE1, 0xE2, 0xED, 0xEE
_APPS = frozenset(range(0xE0, 0xF0))
# Frame headers (SOF0-3, 5-7, 9-11, 13-15): DHT (C4), JPG (C8) and DAC (CC) are not frames.
_FRAMES = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
# Segments with a length that Pillow reads before the scan: frames, DHT, DAC, DQT, DNL, DRI,
# EXP, APPn and COM. Anything else there (RSTn, JPGn, DHP, a stray SOI or EOI) is left to it.
_SEGMENTS = _FRAMES | {0xC4, 0xCC, _DQT, 0xDC, 0xDD, 0xDF, 0xFE} | _APPS
_READ = _SEGMENTS | {_SOS}
_EXIF = b"Exif\x00\x00"
_ICC_HEAD = 14  # "ICC_PROFILE\0", the piece's number and the count: Pillow reads them
_ORIENTATION = 0x0112
_SHORT = 3
# The bytes of one value of each TIFF type Pillow reads (its ImageFileDirectory_v2).
_UNIT_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_UNIT_SIZES |= {16: 8}


@dataclass(frozen=True)
class JpegHeader:
    width: int
    height: int
    orientation: int | None  # EXIF's, when it says one


class _NotSure(Exception):
    """Pillow might read these bytes otherwise than this module would."""


def read_jpeg_header(head: bytes) -> JpegHeader | None:
    """The frame's size and EXIF orientation of a JPEG whose segments up to its first scan are
    all in `head`; None when Pillow should be asked instead."""
    if not head.startswith(_SOI):
        return None
    try:
        return _read(head)
    except (_NotSure, struct.error, IndexError):
        return None


def _read(head: bytes) -> JpegHeader:
    at, size, orientation, exif_seen = 2, None, None, False
    while True:
        marker, body = _segment(head, at)
        if marker == _SOS:
            break
        if marker in _FRAMES:
            size = _frame_size(body)
        elif marker == _DQT:
            _check_tables(body)
        elif marker == _APP1 and body.startswith(_EXIF):
            if exif_seen:
                raise _NotSure("Pillow joins the EXIF blocks")
            exif_seen = True
            orientation = _exif_orientation(body[len(_EXIF) :])
        elif marker in _APPS:
            _check_app(marker, body)
        at += 4 + len(body)
    if size is None:
        raise _NotSure("no frame before the scan")
    most = Image.MAX_IMAGE_PIXELS
    if most is not None and size[0] * size[1] > 2 * most:
        raise _NotSure("Pillow refuses it as a decompression bomb")
    return JpegHeader(size[0], size[1], orientation)


def _segment(head: bytes, at: int) -> tuple[int, bytes]:
    """The marker at `at` and its segment's body, all of which `head` must hold."""
    if head[at] != 0xFF or head[at + 1] not in _READ:
        raise _NotSure("not a segment Pillow reads alike")
    length = int.from_bytes(head[at + 2 : at + 4])
    body = head[at + 4 : at + 2 + length]
    if length < 2 or len(body) != length - 2:
        raise _NotSure("a segment longer than the head")
    return head[at + 1], body


def _frame_size(frame: bytes) -> tuple[int, int]:
    """(width, height) of a frame Pillow opens: 8 bits, 1, 3 or 4 components, each whole."""
    if len(frame) < 6 or frame[0] != 8 or frame[5] not in (1, 3, 4) or (len(frame) - 6) % 3:
        raise _NotSure("a frame Pillow refuses or reads in part")
    height, width = struct.unpack_from(">HH", frame, 1)
    return width, height


def _check_tables(tables: bytes) -> None:
    """Each quantization table must be whole, as Pillow requires."""
    at = 0
    while at < len(tables):
        at += 1 + (64 if tables[at] < 16 else 128)
    if at != len(tables):
        raise _NotSure("a quantization table cut short")


def _check_app(marker: int, body: bytes) -> None:
    """An application segment Pillow keeps as it is, or reads without fail."""
    if marker == _APP1 and body.startswith(b"http://ns.adobe.com/xap/1.0/\x00"):
        raise _NotSure("Pillow also takes an orientation from XMP")
    if marker == _APP2 and body.startswith(b"MPF\x00"):
        raise _NotSure("Pillow may open a multi-picture file")
    if marker == _APP13 and body.startswith(b"Photoshop 3.0\x00"):
        raise _NotSure("Pillow reads Photoshop's resource blocks")
    if marker == _APP2 and body.startswith(b"ICC_PROFILE\x00") and len(body) < _ICC_HEAD:
        raise _NotSure("an ICC piece without its number")
    jfif = marker == _APP0 and body.startswith(b"JFIF")
    if (jfif or (marker == _APP14 and body.startswith(b"Adobe"))) and len(body) < 7:
        raise _NotSure("Pillow reads a number at offset 5")


def _exif_orientation(tiff: bytes) -> int | None:
    """IFD0's orientation, None when it has none."""
    if tiff[:4] == b"II*\x00":
        order = "<"
    elif tiff[:4] == b"MM\x00*":
        order = ">"
    else:
        raise _NotSure("not a plain TIFF header")
    (offset,) = struct.unpack_from(order + "I", tiff, 4)
    (count,) = struct.unpack_from(order + "H", tiff, offset)
    end = offset + 2 + 12 * count
    if offset < 8 or end + 4 > len(tiff):
        raise _NotSure("an IFD0 Pillow reads in part")  # it also reads the next IFD's offset
    found: int | None = None
    tags: set[int] = set()
    for entry in range(offset + 2, end, 12):
        tag, kind, values = struct.unpack_from(order + "HHI", tiff, entry)
        if tag in tags:
            raise _NotSure("a tag twice")
        tags.add(tag)
        size = values * _UNIT_SIZES.get(kind, 0)
        if kind not in _UNIT_SIZES or (size > 4 and _beyond(tiff, order, entry, size)):
            raise _NotSure("a value Pillow cannot read, which ends its reading of IFD0")
        if tag == _ORIENTATION:
            if kind != _SHORT or values != 1:
                raise _NotSure("an orientation that is not one number")
            (found,) = struct.unpack_from(order + "H", tiff, entry + 8)
    return found


def _beyond(tiff: bytes, order: str, entry: int, size: int) -> bool:
    """Whether a value held apart from its entry lies past the end of the block."""
    offset: int = struct.unpack_from(order + "I", tiff, entry + 8)[0]
    return offset + size > len(tiff)
