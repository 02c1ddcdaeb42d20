"""Who made a picture and who owns it, carried from an original to its renditions, and nothing
else of its metadata: no GPS position, no camera serial, no editing history.

Read from the original's EXIF (Artist, Copyright), IPTC (By-line, Credit, Copyright Notice) and
XMP (dc:creator, dc:rights, photoshop:Credit); written back as small blocks of each kind.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

from defusedxml import ElementTree
from PIL import Image

_ARTIST, _COPYRIGHT = 315, 33432
_IPTC_BYLINE, _IPTC_CREDIT, _IPTC_COPYRIGHT = 80, 110, 116
_DC = "{http://purl.org/dc/elements/1.1/}"
_PHOTOSHOP = "{http://ns.adobe.com/photoshop/1.0/}"
_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"


@dataclass
class Credits:
    creators: list[str] = field(default_factory=list)
    copyright: str | None = None
    credit: str | None = None

    def __bool__(self) -> bool:
        return bool(self.creators or self.copyright or self.credit)

    def merge(self, other: Credits) -> None:
        self.creators = self.creators or other.creators
        self.copyright = self.copyright or other.copyright
        self.credit = self.credit or other.credit


def read_credits(exif: bytes | None, iptc: bytes | None, xmp: bytes | None) -> Credits:
    """The credits in whichever blocks the original has; XMP first, as it is the newest."""
    found = Credits()
    for reader, block in ((_from_xmp, xmp), (_from_iptc, iptc), (_from_exif, exif)):
        if block:
            try:
                found.merge(reader(block))
            except (ValueError, SyntaxError, KeyError, TypeError, struct.error, UnicodeError):
                continue  # a broken block holds no credit; the picture is still served
    return found


def exif_block(credits: Credits) -> bytes:
    exif = Image.Exif()
    if credits.creators:
        exif[_ARTIST] = "; ".join(credits.creators)
    if credits.copyright:
        exif[_COPYRIGHT] = credits.copyright
    return exif.tobytes()


def xmp_block(credits: Credits) -> bytes:
    parts = []
    if credits.creators:
        items = "".join(f"<rdf:li>{escape(c)}</rdf:li>" for c in credits.creators)
        parts.append(f"<dc:creator><rdf:Seq>{items}</rdf:Seq></dc:creator>")
    if credits.copyright:
        parts.append(
            '<dc:rights><rdf:Alt><rdf:li xml:lang="x-default">'
            f"{escape(credits.copyright)}</rdf:li></rdf:Alt></dc:rights>"
        )
    if credits.credit:
        parts.append(f"<photoshop:Credit>{escape(credits.credit)}</photoshop:Credit>")
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/">'
        + "".join(parts)
        + "</rdf:Description></rdf:RDF></x:xmpmeta>"
    ).encode()


def iptc_block(credits: Credits) -> bytes:
    """A JPEG APP13 payload: Photoshop's resource block around IPTC records in UTF-8."""
    records = _dataset(1, 90, b"\x1b%G")  # the records are UTF-8
    for creator in credits.creators:
        records += _dataset(2, _IPTC_BYLINE, creator.encode()[:32])
    if credits.credit:
        records += _dataset(2, _IPTC_CREDIT, credits.credit.encode()[:32])
    if credits.copyright:
        records += _dataset(2, _IPTC_COPYRIGHT, credits.copyright.encode()[:128])
    if len(records) % 2:
        records += b"\x00"
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00"
    resource += struct.pack(">I", len(records)) + records
    return b"Photoshop 3.0\x00" + resource


def _dataset(record: int, number: int, value: bytes) -> bytes:
    return struct.pack(">BBBH", 0x1C, record, number, len(value)) + value


def _from_exif(block: bytes) -> Credits:
    exif = Image.Exif()
    exif.load(block)
    artist, owner = _text(exif.get(_ARTIST)), _text(exif.get(_COPYRIGHT))
    return Credits([artist] if artist else [], owner)


def _from_iptc(block: bytes) -> Credits:
    found = Credits()
    data = block[block.find(b"\x1c") :] if b"\x1c" in block else b""
    stream = io.BytesIO(data)
    while (head := stream.read(5)) and len(head) == 5 and head[0] == 0x1C:
        _, record, number, size = struct.unpack(">BBBH", head)
        value = _text(stream.read(size))
        if record != 2 or not value:
            continue
        if number == _IPTC_BYLINE:
            found.creators.append(value)
        elif number == _IPTC_CREDIT:
            found.credit = value
        elif number == _IPTC_COPYRIGHT:
            found.copyright = value
    return found


def _from_xmp(block: bytes) -> Credits:
    root = ElementTree.fromstring(block.strip(b"\x00 \r\n\t"))
    found = Credits()
    for description in root.iter(f"{_RDF}Description"):
        creators = [
            _text(li.text)
            for element in description.iter(f"{_DC}creator")
            for li in element.iter(f"{_RDF}li")
        ]
        found.creators = found.creators or [c for c in creators if c]
        found.copyright = found.copyright or _first(description, f"{_DC}rights")
        found.credit = found.credit or _first(description, f"{_PHOTOSHOP}Credit")
    return found


def _first(description: Element, tag: str) -> str | None:
    attribute = _text(description.get(tag))
    if attribute:
        return attribute
    for element in description.iter(tag):
        texts = [_text(li.text) for li in element.iter(f"{_RDF}li")] or [_text(element.text)]
        for text in texts:
            if text:
                return text
    return None


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        return value.strip("\x00 \r\n\t") or None
    return None
