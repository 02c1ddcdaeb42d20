"""Real files for import tests, made with Pillow (and by hand where a file must lie)."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

EXIF_ARTIST = 0x013B
EXIF_DESCRIPTION = 0x010E


def image_bytes(fmt: str, width: int = 64, height: int = 48, **exif: str) -> bytes:
    picture = Image.new("RGB", (width, height), (200, 30, 30))
    options: dict[str, object] = {}
    if exif:
        tags = Image.Exif()
        for name, value in exif.items():
            tags[{"Artist": EXIF_ARTIST, "ImageDescription": EXIF_DESCRIPTION}[name]] = value
        options["exif"] = tags.tobytes()
    out = io.BytesIO()
    picture.save(out, fmt, **options)
    return out.getvalue()


def jpeg(width: int = 64, height: int = 48, **exif: str) -> bytes:
    return image_bytes("JPEG", width, height, **exif)


# What tests put in storage before registering it, unless they say otherwise.
STORED_JPEG = jpeg(640, 480)


XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    b'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" photoshop:Credit="Agency X">'
    b'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Harbour at dawn</rdf:li></rdf:Alt>'
    b"</dc:title><dc:subject><rdf:Bag><rdf:li>harbour</rdf:li><rdf:li>dawn</rdf:li></rdf:Bag>"
    b"</dc:subject></rdf:Description></rdf:RDF></x:xmpmeta>"
)


def jpeg_with_xmp() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 90, 160)).save(out, "JPEG", xmp=XMP)
    return out.getvalue()


def png(width: int = 64, height: int = 48) -> bytes:
    return image_bytes("PNG", width, height)


def gif(width: int = 64, height: int = 48) -> bytes:
    return image_bytes("GIF", width, height)


def webp(width: int = 64, height: int = 48) -> bytes:
    return image_bytes("WEBP", width, height)


SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80">'
    b'<rect width="120" height="80" fill="teal"/></svg>'
)
SVG_WITH_SCRIPT = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script></svg>"
)

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)

HTML = b"<!DOCTYPE html><html><head><title>Not an image</title></head><body>hi</body></html>"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int = 40_000, height: int = 40_000) -> bytes:
    """A PNG whose header claims 1.6 gigapixels; its few bytes of data would inflate enormously."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    data = zlib.compress(row * 64, 9)  # far fewer rows than claimed: the header is the lie
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", data)
        + _chunk(b"IEND", b"")
    )


def truncated(data: bytes) -> bytes:
    return data[: len(data) * 2 // 3]


def with_iim(jpeg: bytes, datasets: dict[int, bytes]) -> bytes:
    """The JPEG with IPTC IIM datasets (record 2) in a Photoshop APP13 segment."""
    iim = b"".join(
        b"\x1c\x02" + bytes([n]) + len(v).to_bytes(2, "big") + v for n, v in datasets.items()
    )
    block = b"8BIM\x04\x04\x00\x00" + len(iim).to_bytes(4, "big") + iim + b"\x00" * (len(iim) % 2)
    payload = b"Photoshop 3.0\x00" + block
    return jpeg[:2] + b"\xff\xed" + (len(payload) + 2).to_bytes(2, "big") + payload + jpeg[2:]
